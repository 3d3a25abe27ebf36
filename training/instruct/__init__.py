"""Instruction tuning (InstructGPT): `train sft`, `train rm`, `train ppo` on one chat format.

  chat.py      the format: template, special tokens, prompt/response ids and loss masks
  data.py      readers of demonstrations, preference rankings and prompts (bad records counted)
  run.py       checkpoints as chat models, run folders, resume, schedule
  sft.py       supervised fine-tuning, packed or padded
  reward.py    the scalar-head model and the K-wise ranking loss;  rm.py  its training and accuracy
  ppo_math.py  GAE, whitening, clipped losses, KL estimators;  rollout.py  sampling, scoring, win rate
  ppo.py       PPO-ptx
See docs/instruct.md.
"""

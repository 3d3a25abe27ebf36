"""InstructGPT end to end on a tiny model: SFT -> two reward models (disjoint halves of the
preferences) -> PPO-ptx, on the real data of /work/shared/realdata/instruct, plus the throughput
figures the three steps rest on.

    nice -n 10 .venv/bin/python bench/instruct.py [--scale 0.35] [--out runs/bench_instruct]

Prints SFT loss, reward-model held-out accuracy (both RMs), PPO reward and KL per iteration, the final
win rate vs SFT judged by the RM PPO optimised and by the other one, generation tokens/s with vs
without the KV cache at 256 new tokens, and SFT tokens/s packed vs padded (baselines measured in the
same run). The "pre-trained" model is the chat preset freshly initialised with a byte-level BPE
trained on the instruction text (no pre-training fits the budget): the bench measures the pipeline,
not model quality. Alpaca and LIMA are non-commercial: nothing trained here is to be shipped.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline.tokens import bpe  # noqa: E402
from training import checkpoint as ckpt  # noqa: E402
from training.config import load_run_config  # noqa: E402
from training.instruct.config import PPOSettings, RMSettings, SFTSettings  # noqa: E402
from training.instruct.data import Skips, read_sft  # noqa: E402
from training.instruct.ppo import train_ppo  # noqa: E402
from training.instruct.rm import train_rm  # noqa: E402
from training.instruct.run import load_chat_model  # noqa: E402
from training.instruct.sft import batch_loss, build_examples, epoch_batches, make_batch, train_sft  # noqa: E402
from training.model import GPT  # noqa: E402

DATA = Path(os.environ.get("WEBMIX_REALDATA", "/work/shared/realdata")) / "instruct"
SFT_FILES = [DATA / "sft/alpaca_5000_subset.json", DATA / "sft/lima_1k.json", DATA / "sft/self_instruct_seed_tasks.jsonl"]
PREF_FILES = sorted(glob.glob(str(DATA / "prefs/*")))
PROMPT_FILES = [DATA / "ppo_prompts/oasst_prompt_lottery_en_250.jsonl"]


def base_checkpoint(out: Path, vocab: int) -> tuple[str, str]:
    """Tokenizer trained on the instruction text; the chat preset, freshly initialised, saved as step 0."""
    texts = [t for conv in read_sft(SFT_FILES, Skips()) for _, t in conv]
    tok = bpe.train_bpe(texts, vocab_size=vocab)
    tok_path = bpe.save(tok, str(out / "tokenizer"))
    cfg = load_run_config("chat", vocab_size=tok.get_vocab_size())
    torch.manual_seed(0)
    meta = {"run": cfg.to_dict(), "step": 0, "tokenizer_hash": bpe.tokenizer_hash(tok_path), "eot_id": bpe.eot_id(tok)}
    ckpt.save_checkpoint(out / "base", 0, GPT(cfg.model).state_dict(), {"step": 0}, meta, tok_path, keep_last=1)
    return str(out / "base"), tok_path


def ptx_mixture(out: Path, tok_path: str, texts: list[str]) -> str:
    """A one-source text mixture (Parquet, tokenized on the fly by the base tokenizer) for PPO-ptx."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = out / "ptx_text"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"id": [str(i) for i in range(len(texts))], "text": texts}), folder / "part-0.parquet")
    path = out / "ptx_mixture.yaml"
    path.write_text(json.dumps({"seed": 1, "token_budget": 10_000_000, "tokenizer": tok_path,
                                "sources": [{"name": "text", "path": str(folder), "weight": 1.0}]}))
    return str(path)


def sft_layouts(sft_ckpt: str, steps: int) -> dict:
    """Tokens/s of SFT steps (forward + backward) on the same batches, packed vs padded."""
    cm = load_chat_model(sft_ckpt, torch.device("cpu"), seed=0)
    examples = build_examples(cm.chat, read_sft(SFT_FILES[:1], Skips()), 256, Skips())
    plan = epoch_batches(examples, 16, seed=0, epoch=0)[:steps]
    out = {}
    for layout in ("padded", "packed"):
        tokens, t0 = 0, time.perf_counter()
        for b in plan:
            chunk = [examples[i] for i in b]
            batch_loss(cm.gpt, make_batch(chunk, layout, 256, cm.chat.end), torch.device("cpu")).backward()
            tokens += sum(len(ids) for ids, _ in chunk)
        out[layout] = tokens / (time.perf_counter() - t0)
    return out


@torch.no_grad()
def generation_speed(sft_ckpt: str, new_tokens: int = 256, batch: int = 4) -> dict:
    cm = load_chat_model(sft_ckpt, torch.device("cpu"), seed=0)
    prompt = torch.tensor([cm.chat.prompt_ids([("user", "Tell me a long story about a cat.")])] * batch)
    out = {}
    for use_cache in (False, True):
        t0 = time.perf_counter()
        cm.gpt.generate(prompt, new_tokens, temperature=1.0, generator=torch.Generator().manual_seed(0),
                        use_cache=use_cache)
        out["cache" if use_cache else "no_cache"] = batch * new_tokens / (time.perf_counter() - t0)
    greedy = [cm.gpt.generate(prompt[:1], 64, temperature=0, use_cache=c) for c in (False, True)]
    out["greedy_identical"] = bool(torch.equal(*greedy))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="runs/bench_instruct")
    ap.add_argument("--scale", type=float, default=0.35, help="multiplies every step count (0.35: ~28 min on the shared CPU)")
    ap.add_argument("--vocab", type=int, default=2048)
    args = ap.parse_args()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    n = lambda k: max(1, int(k * args.scale))  # noqa: E731
    common = {"device": "cpu", "progress": "log", "log_every": 10}
    t0 = time.perf_counter()
    base, tok_path = base_checkpoint(out, args.vocab)
    times = {"base": time.perf_counter() - t0}

    t = time.perf_counter()
    sft = train_sft(base, SFT_FILES, out / "sft", SFTSettings(max_steps=n(60), batch_size=16, lr=1e-3, warmup_steps=10,
                                                           max_len=256, model_dropout=0.0, **common))
    times["sft"] = time.perf_counter() - t
    rms = {}
    for half in ("a", "b"):
        t = time.perf_counter()
        rms[half] = train_rm(out / "sft", PREF_FILES, out / f"rm_{half}",
                             RMSettings(max_steps=n(50), batch_prompts=8, lr=3e-4, max_len=256, half=half,
                                        heldout_fraction=0.05, max_demos=128, **common),
                             demos=[str(SFT_FILES[0])])
        times[f"rm_{half}"] = time.perf_counter() - t
    t = time.perf_counter()
    ptx_texts = [t for conv in read_sft(SFT_FILES[1:2], Skips()) for _, t in conv]
    ppo = train_ppo(out / "sft", out / "rm_a", [str(p) for p in PROMPT_FILES], out / "ppo",
                    PPOSettings(iterations=n(8), rollout_batch=16, minibatch=8, max_new_tokens=32, lr=2e-5,
                                value_lr=1e-4, eval_prompts=32, ptx_mixture=ptx_mixture(out, tok_path, ptx_texts),
                                ptx_batch=2, ptx_block=256, **{**common, "log_every": 1}),
                    judge_ckpt=out / "rm_b")
    times["ppo"] = time.perf_counter() - t
    t = time.perf_counter()
    gen = generation_speed(str(out / "sft"))
    layouts = sft_layouts(str(out / "sft"), n(8))
    times["throughput"] = time.perf_counter() - t

    print("\n== InstructGPT bench (tiny chat model, CPU) ==")
    losses = sft["losses"]
    print(f"SFT: {sft['step']} steps, loss {losses[1]:.3f} -> {losses[sft['step']]:.3f}, held-out {sft['heldout_loss']:.3f}")
    for half, r in rms.items():
        h = r["heldout"]
        print(f"RM {half}: held-out pairwise accuracy {h['accuracy']:.3f} [{h['low']:.3f}, {h['high']:.3f}] "
              f"on {h['pairs']} pairs; reward shift {r['reward_shift']:+.3f}")
    print("PPO iter | score  reward  KL k1   KL k3  resp_len no_eos clip  entropy | rollout reward learn (s)")
    for i, h in enumerate(ppo["history"], 1):
        print(f"  {i:3d}    | {h['score']:+.3f} {h['reward']:+.3f} {h['kl_k1']:+.3f} {h['kl_k3']:.3f} {h['response_len']:6.1f} "
              f"{h['no_eos']:.2f} {h['clip_frac']:.2f} {h['entropy']:.2f} | {h['t_rollout']:.1f} {h['t_reward']:.1f} "
              f"{h['t_learn']:.1f}  ptx {h.get('ptx_loss', 0):.2f} |g| ppo {h['grad_norm_ppo']:.2f} ptx {h.get('grad_norm_ptx', 0):.2f}")
    wr = ppo["win_rate"]
    for name, label in (("reward", "RM a (optimised)"), ("judge", "RM b (disjoint half)")):
        print(f"win rate vs SFT judged by {label}: {wr[name]['win_rate']:.3f} [{wr[name]['low']:.3f}, "
              f"{wr[name]['high']:.3f}] on {wr['prompts']} held-out prompts; KL spent k1 {wr['kl_k1']:.3f} k3 {wr['kl_k3']:.3f}")
    print(f"generation at 256 new tokens (batch 4): no cache {gen['no_cache']:.0f} tok/s, KV cache {gen['cache']:.0f} "
          f"tok/s = {gen['cache'] / gen['no_cache']:.2f}x; greedy tokens identical: {gen['greedy_identical']}")
    print(f"SFT step tokens/s (fwd+bwd, same batches): padded {layouts['padded']:.0f}, packed {layouts['packed']:.0f} "
          f"= {layouts['packed'] / layouts['padded']:.2f}x")
    print("times (s): " + ", ".join(f"{k} {v:.0f}" for k, v in times.items()) + f"; total {time.perf_counter() - t0:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

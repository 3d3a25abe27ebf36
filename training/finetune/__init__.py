"""GPT-1 (Radford et al. 2018) discriminative fine-tuning: `train finetune`.

A task is data (conf/finetune/<task>.yaml): where its rows are, which fields hold the text and the
label, and which of GPT-1's four input transformations turns a row into token sequences:

  classification   <s> text <e>                              -> label
  entailment       <s> premise <$> hypothesis <e>            -> label
  similarity       <s> a <$> b <e>  and  <s> b <$> a <e>     -> both rows' <e> states summed -> label
  multiple_choice  <s> context <$> option_i <e>, every i      -> one score per row, softmax per item

A linear head (dropout before it) reads the final LayerNorm state at each row's <e>; the loss is
L_task + lm_coef * L_LM, L_LM the next-token loss over the real tokens of the transformed rows.

Modules: config (settings, task schema), tasks (reading rows, bad rows, splits), transform (token
layouts, truncation, batches), head (the task model and its losses), metrics (GLUE's), loop
(training, selection, checkpoints, resume), cli (`train finetune`).
"""

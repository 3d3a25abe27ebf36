"""The task model: the pre-trained GPT, dropout, and a linear head on the final LayerNorm state at each
row's <e> (GPT-1 §3.2, W_y). Rows are right-padded, so causal attention never lets a real token see
a pad and no mask is needed (SDPA keeps its fast causal path).

Scores: classification / entailment (B, classes); similarity sums the two orders' states before the
head (B, classes), or (B,) for a regression target; multiple choice one score per option row,
(B, options), so the softmax runs over one item's options.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from training.batching import IGNORE
from training.finetune.config import TaskSpec
from training.finetune.transform import Batch
from training.model import GPT


class TaskModel(nn.Module):
    def __init__(self, gpt: GPT, task: TaskSpec, head_dropout: float, generator: torch.Generator | None = None):
        super().__init__()
        self.gpt = gpt
        self.kind, self.regression = task.kind, task.target == "regression"
        self.dropout = nn.Dropout(head_dropout)
        self.head = nn.Linear(gpt.config.n_embd, task.n_outputs)
        with torch.no_grad():  # GPT-1's code: N(0, 0.02) weights, zero bias
            self.head.weight.copy_(torch.randn(self.head.weight.shape, generator=generator) * 0.02)
            self.head.bias.zero_()

    def forward(self, batch: Batch, with_lm: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(task scores, L_LM or None). L_LM: mean next-token loss over the real tokens of the rows."""
        hidden = self.gpt.hidden_states(batch.idx)
        rows = torch.arange(hidden.size(0), device=hidden.device)
        pooled = hidden[rows, batch.extract]
        if self.kind == "similarity":
            pooled = pooled.view(-1, 2, pooled.size(-1)).sum(dim=1)
        scores = self.head(self.dropout(pooled))
        if self.kind == "multiple_choice":
            scores = scores.view(-1, batch.rows_per_item)
        elif self.regression:
            scores = scores.squeeze(-1)
        lm_loss = None
        if with_lm:
            real = batch.lm_targets != IGNORE  # lm_head only on real positions: pads cost nothing
            logits = self.gpt.lm_head(hidden[real])
            lm_loss = F.cross_entropy(logits.float(), batch.lm_targets[real])
        return scores, lm_loss

    def task_loss(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.regression:
            return F.mse_loss(scores.float(), labels)
        return F.cross_entropy(scores.float(), labels)

    @staticmethod
    def predictions(scores: torch.Tensor, regression: bool) -> torch.Tensor:
        return scores.float() if regression else scores.argmax(dim=-1)

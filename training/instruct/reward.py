"""The reward model: the SFT GPT with its unembedding replaced by a scalar head, read at the <|end|>
appended to each response (InstructGPT §3.5), and its loss over rankings of K responses.

Loss of one prompt with K ranked responses (best first), all C(K,2) comparisons from K forward
passes in one batch:
    loss(x) = -1/C(K,2) * sum_{i<j} log sigmoid(r(x, y_i) - r(x, y_j))
and a batch's loss is the mean over its prompts (prompts weighted equally), so a prompt ranked K-wise
contributes exactly what its C(K,2) pairs would, each taken as its own prompt, averaged.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from training.batching import pad_sequences
from training.model import GPT


class ScalarHead(nn.Module):
    """The GPT and a linear map of its final hidden state to one number: the reward model, and
    PPO's value model (initialised from it) which reads the head at every position."""

    def __init__(self, gpt: GPT, generator: torch.Generator | None = None):
        super().__init__()
        self.gpt = gpt
        self.head = nn.Linear(gpt.config.n_embd, 1)
        with torch.no_grad():
            self.head.weight.copy_(torch.randn(self.head.weight.shape, generator=generator) * 0.02)
            self.head.bias.zero_()

    def all_positions(self, idx: torch.Tensor, **kwargs) -> torch.Tensor:
        """(B, T): the head at every position."""
        return self.head(self.gpt.hidden_states(idx, **kwargs)).squeeze(-1).float()

    def forward(self, idx: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """(B,) the score at index `last` of each right-padded row (its <|end|>)."""
        hidden = self.gpt.hidden_states(idx)
        rows = torch.arange(idx.size(0), device=idx.device)
        return self.head(hidden[rows, last]).squeeze(-1).float()

    def head_state(self) -> dict:
        return {k: v.detach().cpu() for k, v in self.head.state_dict().items()}


def score_sequences(model: ScalarHead, seqs: list[list[int]], pad_id: int, device) -> torch.Tensor:
    """Scores of whole sequences (prompt + response + <|end|>), read at their last token."""
    idx = pad_sequences(seqs, pad_id).to(device)
    last = torch.tensor([len(s) - 1 for s in seqs], device=device)
    return model(idx, last)


def ranking_loss(rewards: torch.Tensor, group_sizes: list[int]) -> torch.Tensor:
    """Mean over prompts of -1/C(K,2) sum_{i<j} log sigmoid(r_i - r_j); `rewards` holds each prompt's
    K responses best first, prompts one after another."""
    losses = []
    start = 0
    for k in group_sizes:
        r = rewards[start:start + k]
        i, j = torch.triu_indices(k, k, offset=1, device=r.device)
        losses.append(-F.logsigmoid(r[i] - r[j]).mean())
        start += k
    return torch.stack(losses).mean()


def pairwise_correct(rewards: torch.Tensor, group_sizes: list[int]) -> tuple[int, int]:
    """(comparisons where the better response scored higher, comparisons); a tie counts as wrong."""
    right = total = 0
    start = 0
    for k in group_sizes:
        r = rewards[start:start + k]
        i, j = torch.triu_indices(k, k, offset=1, device=r.device)
        right += int((r[i] > r[j]).sum())
        total += len(i)
        start += k
    return right, total

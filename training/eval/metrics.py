"""Per-item predictions and task-level metrics with bootstrap 95% intervals.

acc            argmax of sum log p(option | context)
acc_norm       argmax of that sum / the option's length in characters (lm-evaluation-harness)
acc_per_token  argmax of that sum / the option's length in tokens (GPT-3)
acc_uncond     argmax of log p(option | context) - log p(option | unconditional context) (GPT-3, OpenBookQA)
ppl            cloze: exp(-mean over items of log p(target))
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

N_RESAMPLES = 1000
CHUNK = 100          # resamples drawn at once (bounds the index matrix on 10k-item tasks)


def predictions(logprobs: list[float], chars: list[int], tokens: list[int],
                uncond: list[float] | None = None) -> dict[str, int]:
    """The option each multiple-choice metric picks (ties: the first option)."""
    lp = np.asarray(logprobs)
    picks = {"acc": int(np.argmax(lp)),
             "acc_norm": int(np.argmax(lp / np.maximum(np.asarray(chars), 1))),
             "acc_per_token": int(np.argmax(lp / np.maximum(np.asarray(tokens), 1)))}
    if uncond is not None:
        picks["acc_uncond"] = int(np.argmax(lp - np.asarray(uncond)))
    return picks


def bootstrap_interval(columns: tuple[np.ndarray, ...], statistic: Callable[..., float],
                       seed: int = 0, n_resamples: int = N_RESAMPLES) -> tuple[float, float]:
    """Percentile 95% interval of statistic(*columns) over items resampled with replacement."""
    n = len(columns[0])
    if n == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    values = []
    for start in range(0, n_resamples, CHUNK):
        draws = rng.integers(0, n, size=(min(CHUNK, n_resamples - start), n))
        values.extend(statistic(*(c[row] for c in columns)) for row in draws)
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def mean(values: np.ndarray) -> float:
    return float(np.mean(values))


def perplexity(logprobs: np.ndarray) -> float:
    return float(math.exp(-np.mean(logprobs)))


def bits_per_byte(nats: np.ndarray, n_bytes: np.ndarray) -> float:
    return float(np.sum(nats) / (math.log(2) * np.sum(n_bytes)))


def token_perplexity(nats: np.ndarray, n_tokens: np.ndarray) -> float:
    return float(math.exp(np.sum(nats) / np.sum(n_tokens)))


STATISTICS: dict[str, Callable[..., float]] = {
    "acc": mean, "acc_norm": mean, "acc_per_token": mean, "acc_uncond": mean,
    "ppl": perplexity, "bits_per_byte": bits_per_byte, "token_perplexity": token_perplexity,
}


def summarize(metric: str, columns: tuple[np.ndarray, ...], chance: float | None, seed: int) -> dict:
    """value, interval, and whether the interval includes the chance level."""
    statistic = STATISTICS[metric]
    value = statistic(*columns) if len(columns[0]) else math.nan
    low, high = bootstrap_interval(columns, statistic, seed=seed)
    includes = None if chance is None or math.isnan(low) else bool(low <= chance <= high)
    return {"metric": metric, "value": value, "interval": [low, high], "chance": chance,
            "interval_includes_chance": includes}

"""Held-out metrics of the classifier, on small collected (score, label) arrays: scikit-learn's ROC
AUC with a bootstrap 95% interval, precision and recall, score histograms, and the keep rate the
pareto rule gives at a few alphas (GPT-3 chose alpha to match the score distribution on WebText)."""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import precision_score, recall_score, roc_auc_score

from pipeline.quality.sampling import keep_probability

HISTOGRAM_BINS = 20
REPORT_ALPHAS = (1.0, 2.0, 3.0, 5.0, 9.0, 15.0)


def fast_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic on mid-ranks (ties count half), equal to
    scikit-learn's roc_auc_score; hand-written because the bootstraps call it thousands of times
    and roc_auc_score's input checks cost ~50x the arithmetic."""
    ranks = rankdata(scores)
    positives = labels == 1
    n_pos = int(positives.sum())
    n_neg = len(labels) - n_pos
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auc_interval(labels, scores, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """ROC AUC and its percentile-bootstrap interval (resamples lacking a class are skipped)."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=np.float64)
    if len(np.unique(labels)) < 2:
        return {"auc": None, "low": None, "high": None, "n": int(len(labels))}
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(labels), len(labels))
        if labels[pick].min() != labels[pick].max():
            boot.append(fast_auc(labels[pick], scores[pick]))
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail])
    return {"auc": float(roc_auc_score(labels, scores)), "low": float(low), "high": float(high),
            "n": int(len(labels))}


def histogram(scores) -> dict:
    counts, edges = np.histogram(np.asarray(scores, dtype=np.float64), bins=HISTOGRAM_BINS, range=(0.0, 1.0))
    return {"edges": [round(float(e), 4) for e in edges], "counts": counts.tolist()}


def keep_rates(scores, alphas) -> dict:
    """Expected fraction kept by the pareto rule: mean of (2 - s)^-alpha, per alpha."""
    scores = np.asarray(scores, dtype=np.float64)
    return {f"{a:g}": float(keep_probability(scores, a).mean()) if len(scores) else None for a in alphas}


def summarize(labels, scores, alphas, seed: int = 0, threshold: float = 0.5) -> dict:
    """The report's metrics for one held-out set."""
    labels = np.asarray(labels).astype(int)
    scores = np.asarray(scores, dtype=np.float64)
    predicted = (scores >= threshold).astype(int)
    pos, neg = scores[labels == 1], scores[labels == 0]
    return {
        "roc_auc": auc_interval(labels, scores, seed=seed),
        "threshold": threshold,
        "precision": float(precision_score(labels, predicted, zero_division=0)),
        "recall": float(recall_score(labels, predicted, zero_division=0)),
        "accuracy": float((predicted == labels).mean()) if len(labels) else None,
        "positives": {"n": int(len(pos)), "mean_score": float(pos.mean()) if len(pos) else None,
                      "histogram": histogram(pos), "keep_rate": keep_rates(pos, alphas)},
        "negatives": {"n": int(len(neg)), "mean_score": float(neg.mean()) if len(neg) else None,
                      "histogram": histogram(neg), "keep_rate": keep_rates(neg, alphas)},
    }


# --- evaluation against people ------------------------------------------------------------------
SELECT_SALT = "classifier-human-selection"


def load_human(path: str) -> tuple[list[str], np.ndarray]:
    """Texts and 0/1 labels of a human-label JSONL file (`text`, `label`); InputError naming the
    file and line when a record lacks either (called before Spark starts)."""
    import json

    import fsspec

    from pipeline.core.config import InputError

    texts, labels = [], []
    with fsspec.open(path, "r", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                text, label = record["text"], int(record["label"])
            except (ValueError, KeyError, TypeError):
                raise InputError(f"human labels {path} line {n}: need a JSON object with `text` and a 0/1 "
                                 "`label`") from None
            if label not in (0, 1) or not isinstance(text, str):
                raise InputError(f"human labels {path} line {n}: `label` must be 0 or 1 and `text` a string")
            texts.append(text)
            labels.append(label)
    if len(set(labels)) < 2:
        raise InputError(f"human labels {path}: both labels 0 and 1 are needed for a ROC AUC")
    return texts, np.array(labels, dtype=int)


def word_counts(texts) -> np.ndarray:
    """The trivial baseline: whitespace words per document."""
    return np.array([len(t.split()) for t in texts], dtype=np.float64)


def alphabetic_fractions(texts) -> np.ndarray:
    """The second baseline: the fraction of words with at least one letter (Gopher's rule)."""
    out = np.zeros(len(texts), dtype=np.float64)
    for i, text in enumerate(texts):
        words = text.split()
        out[i] = sum(any(c.isalpha() for c in w) for w in words) / len(words) if words else 0.0
    return out


def selection_half(texts, seed: int = 0) -> np.ndarray:
    """True for the half of a human file reserved for model selection (by a hash of the text); the
    other half is only ever reported (docs/classifier.md: the model-selection rule)."""
    from pipeline.core.hashing import text_digest, uniforms

    return uniforms(seed, [text_digest(t) for t in texts], SELECT_SALT) < 0.5


def paired_gap(labels, scores, baseline, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """AUC(scores) - AUC(baseline) with a paired percentile bootstrap (the same resampled documents
    for both scores), so the interval reflects the gap, not two independent noises."""
    labels = np.asarray(labels)
    scores, baseline = np.asarray(scores, dtype=np.float64), np.asarray(baseline, dtype=np.float64)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(labels), len(labels))
        if labels[pick].min() != labels[pick].max():
            boot.append(fast_auc(labels[pick], scores[pick]) - fast_auc(labels[pick], baseline[pick]))
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail])
    gap = roc_auc_score(labels, scores) - roc_auc_score(labels, baseline)
    return {"gap": float(gap), "low": float(low), "high": float(high)}


def calibration(labels, scores, bins: int = 10) -> list[dict]:
    """Per score bin of width 1/bins: documents, mean score and the fraction people labelled 1."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=np.float64)
    which = np.minimum((scores * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            rows.append({"score_from": b / bins, "score_to": (b + 1) / bins, "n": int(mask.sum()),
                         "mean_score": round(float(scores[mask].mean()), 4),
                         "fraction_labelled_1": round(float(labels[mask].mean()), 4)})
    return rows


def human_report(texts, labels, scores, seed: int = 0) -> dict:
    """The classifier against people on one file, beside the trivial baselines of the same texts."""
    words, alpha = word_counts(texts), alphabetic_fractions(texts)
    select = selection_half(texts)
    return {
        "n": int(len(labels)), "positives": int(np.sum(labels)),
        "model": auc_interval(labels, scores, seed=seed),
        "word_count": auc_interval(labels, words, seed=seed),
        "alphabetic_fraction": auc_interval(labels, alpha, seed=seed),
        "gap_to_word_count": paired_gap(labels, scores, words, seed=seed),
        "selection_half": auc_interval(labels[select], scores[select], seed=seed),
        "report_half": auc_interval(labels[~select], scores[~select], seed=seed),
        "calibration": calibration(labels, scores),
    }

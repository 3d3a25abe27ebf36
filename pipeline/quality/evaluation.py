"""Held-out metrics of the classifier, on small collected (score, label) arrays: scikit-learn's ROC
AUC with a bootstrap 95% interval, precision and recall, score histograms, and the keep rate the
pareto rule gives at a few alphas (GPT-3 chose alpha to match the score distribution on WebText)."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_score, recall_score, roc_auc_score

from pipeline.quality.sampling import keep_probability

HISTOGRAM_BINS = 20
REPORT_ALPHAS = (1.0, 2.0, 3.0, 5.0, 9.0, 15.0)


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
            boot.append(roc_auc_score(labels[pick], scores[pick]))
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

"""GLUE's metrics, from scikit-learn and SciPy: accuracy, F1 of the positive class (MRPC), Matthews
correlation (CoLA), Pearson and Spearman correlation (STS-B). The task's first metric chooses the
checkpoint."""
from __future__ import annotations

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import f1_score, matthews_corrcoef


def compute(names: list[str], predictions, labels) -> dict[str, float]:
    pred, gold = np.asarray(predictions), np.asarray(labels)
    out = {}
    for name in names:
        if name == "accuracy":
            out[name] = float((pred == gold).mean())
        elif name == "f1":
            out[name] = float(f1_score(gold, pred, pos_label=1, zero_division=0.0))
        elif name == "matthews":
            out[name] = float(matthews_corrcoef(gold, pred))
        else:
            # A constant prediction has no correlation: report 0 rather than SciPy's NaN warning.
            # (np.ptp, not np.std: the std of a constant float column can round to 1e-16.)
            if np.ptp(pred) == 0 or np.ptp(gold) == 0:
                out[name] = 0.0
            else:
                out[name] = float((pearsonr if name == "pearson" else spearmanr)(pred, gold)[0])
    return out

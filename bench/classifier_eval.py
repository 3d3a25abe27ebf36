"""The quality classifier on real data: model kind x feature form x balance (and the cleaning and
solver choices), one table, a row per configuration and human-label file, with intervals.

Positives: real WebText; negatives: raw CommonCrawl (the shipped model's inputs, see
pipeline/quality/shipped.py). Every configuration is trained by the real job
(TrainClassifierJob, Spark local[2]) with `--human`; the logistic-regression runs also train the
other feature forms on the same split (`classifier.compare_features`). Baselines (word count,
alphabetic-word fraction) are measured on the same human texts in the same run.

    .venv/bin/python bench/classifier_eval.py [--realdata ../shared/realdata] [--work /tmp/clf-bench] [--quick]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.quality.shipped import HUMAN, RECIPE, recipe_args  # noqa: E402

# (label, overrides on top of the shipped recipe)
CONFIGS = [
    ("logreg weight", ["classifier.balance=weight", "classifier.compare_features=true"]),
    ("logreg downsample", ["classifier.compare_features=true"]),
    ("fasttext weight", ["classifier.model=fasttext", "classifier.balance=weight"]),
    ("fasttext downsample", ["classifier.model=fasttext"]),
    ("logreg weight clean=both", ["classifier.balance=weight", "classifier.clean=both"]),
    ("logreg weight clean=none", ["classifier.balance=weight", "classifier.clean=none"]),
    ("logreg weight solver=spark", ["classifier.balance=weight", "classifier.solver=spark"]),
]
QUICK = {"logreg weight", "fasttext weight"}


def fmt(ci: dict | None, key: str = "auc") -> str:
    if not ci or ci.get(key) is None:
        return "n/a"
    return f"{ci[key]:+.3f} [{ci['low']:+.3f}, {ci['high']:+.3f}]" if key == "gap" else \
        f"{ci[key]:.3f} [{ci['low']:.3f}, {ci['high']:.3f}]"


def rows_of(label: str, report: dict) -> list[list[str]]:
    """Table rows of one run: the chosen model, then each compared feature form (same split, same
    human texts, same bootstrap seed)."""
    kind, balance, clean = report["kind"], report["balance"], report["clean"]
    solver = report["settings"]["solver"] if kind == "logreg" else "driver"
    out = []
    for path, h in report["human"].items():
        out.append([kind, report["features"], balance, clean, solver, fmt(report["held_out"]["roc_auc"]),
                    Path(path).name, fmt(h["model"]), fmt(h["gap_to_word_count"], "gap"),
                    fmt(h["selection_half"]), f"{report['train_seconds']:.1f}"])
        for form, other in report["compare_features"].items():
            o = other["human"][path]
            out.append([kind, form, balance, clean, solver, fmt(other["held_out"]), Path(path).name,
                        fmt(o["model"]), fmt(o["gap_to_word_count"], "gap"), fmt(o["selection_half"]),
                        f"{other['train_seconds']:.1f}"])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--realdata", default=str(REPO.parent / "shared" / "realdata"))
    parser.add_argument("--work", default="/tmp/webmix-classifier-bench")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(sorted(QUICK))}")
    parser.add_argument("--only", nargs="+", metavar="LABEL", help="only these configurations (labels as listed)")
    parser.add_argument("--reuse", action="store_true", help="table a configuration from its report.json when present")
    args = parser.parse_args()
    realdata, work = Path(args.realdata), Path(args.work)
    if not (realdata / HUMAN).is_file():
        print(f"real data not found at {realdata}")
        return 2
    from pipeline.core.spark import get_spark
    from pipeline.quality.train_job import TrainClassifierJob

    get_spark("webmix-classifier-bench", master="local[2]", conf={"spark.ui.enabled": "false",
                                                                   "spark.ui.showConsoleProgress": "false"})
    table, baselines = [], {}
    for label, overrides in CONFIGS:
        if (args.quick and label not in QUICK) or (args.only and label not in args.only):
            continue
        out = work / label.replace(" ", "_").replace("=", "-")
        if not (args.reuse and (out / "report.json").is_file()):
            try:
                failed = TrainClassifierJob().main([*recipe_args(realdata, out), *overrides])
            except RuntimeError as exc:     # a configuration that fails is reported; the others still run
                failed = str(exc)
            if failed:
                print(f"{label}: failed ({failed})", flush=True)
                continue
        report = json.loads((out / "report.json").read_text())
        table += rows_of(label, report)
        for path, h in report["human"].items():
            baselines[Path(path).name] = (h["word_count"], h["alphabetic_fraction"])
        print(f"{label}: job {report['job_seconds']:.0f}s, fit {report['train_seconds']:.1f}s", flush=True)
    header = ["kind", "features", "balance", "clean", "solver", "held-out WebText vs CC", "human file",
              "human AUC [95%]", "gap to word count [95%]", "selection half", "fit s"]
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(len(header))]
    print("\nrecipe of the shipped model:", " ".join(RECIPE))
    for row in [header, *table]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    for name, (words, alpha) in baselines.items():
        print(f"baselines on {name}: word count {fmt(words)}, alphabetic fraction {fmt(alpha)}")
    (work / "results.json").write_text(json.dumps({"header": header, "rows": table}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

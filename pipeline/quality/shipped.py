"""Rebuild the classifier that ships with the package (`quality_filter.py --model default`):

    .venv/bin/python -m pipeline.quality.shipped [--realdata ../shared/realdata]

It runs `train_classifier.py` with RECIPE on the real WebText / raw CommonCrawl files, then copies
the files the filter scores from (model.json, weights.npz) and report.json into
pipeline/quality/default_model/, with the SHA-256 of every training file in data.json.
RECIPE.md in that folder describes the recipe and the licences.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from pipeline.core.hashing import file_sha256
from pipeline.quality.classifier import DEFAULT_MODEL_DIR, MODEL_FILE, REPORT_FILE, WEIGHTS_FILE

REPO = Path(__file__).resolve().parents[2]
POSITIVES = ["text/webtext/*.jsonl"]
NEGATIVES = ["text/cc_raw/dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz",
             "text/cc_raw/hplt_warc2text-runner_sample100_CC.jsonl.zst",
             "text/cc_raw/cs336_cc_main_2025_18/*.txt", "text/cc_extracted/*.gz"]
HUMAN = "text/quality_labeled/dclm_human_dev.jsonl"
RECIPE = ["classifier.model=logreg", "classifier.features=l2", "classifier.balance=downsample",
          "classifier.clean=positives", "classifier.compare_features=false", "ingest.id_field=null"]
SHIPPED_FILES = (MODEL_FILE, WEIGHTS_FILE, REPORT_FILE)


def recipe_args(realdata: Path, output: Path, human: bool = True) -> list[str]:
    """The train_classifier arguments of the shipped model."""
    return ["--positives", *[str(realdata / p) for p in POSITIVES],
            "--negatives", *[str(realdata / p) for p in NEGATIVES], "--output", str(output),
            *(["--human", str(realdata / HUMAN)] if human else []), "--force", *RECIPE]


def training_files(realdata: Path) -> list[Path]:
    return sorted(f for pattern in [*POSITIVES, *NEGATIVES] for f in realdata.glob(pattern))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--realdata", default=str(REPO.parent / "shared" / "realdata"))
    parser.add_argument("--work", default="/tmp/webmix-default-classifier", help="the full model folder")
    args = parser.parse_args(argv)
    from pipeline.quality.train_job import TrainClassifierJob

    realdata, work = Path(args.realdata), Path(args.work)
    code = TrainClassifierJob().main(recipe_args(realdata, work))
    if code:
        return code
    target = Path(DEFAULT_MODEL_DIR)
    target.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED_FILES:
        shutil.copyfile(work / name, target / name)
    data = {"recipe": RECIPE, "files": {str(f.relative_to(realdata)): file_sha256(str(f))
                                        for f in training_files(realdata)}}
    (target / "data.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"shipped model written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

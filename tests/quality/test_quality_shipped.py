"""The shipped default classifier is what its recipe builds: retrained from the real data with
pipeline/quality/shipped.py's arguments, it scores a fixed set of 200 real texts like the shipped
files (Spearman >= 0.99, max |difference| <= 0.02)."""
import json

import numpy as np
import pytest
from scipy.stats import spearmanr

from pipeline.quality.classifier import ExportedModel
from pipeline.quality.shipped import HUMAN, recipe_args
from pipeline.quality.train_job import TrainClassifierJob


@pytest.mark.spark
def test_recipe_rebuilds_the_shipped_model(spark, realdata, tmp_path):
    out = tmp_path / "rebuilt"
    assert TrainClassifierJob().main(recipe_args(realdata, out, human=False)) == 0
    texts = [json.loads(line)["text"] for line in (realdata / HUMAN).read_text(encoding="utf-8").splitlines()[:200]]
    shipped = ExportedModel.load("default").score_texts(texts)
    rebuilt = ExportedModel.load(str(out)).score_texts(texts)
    assert spearmanr(shipped, rebuilt).statistic >= 0.99
    assert np.max(np.abs(shipped - rebuilt)) <= 0.02

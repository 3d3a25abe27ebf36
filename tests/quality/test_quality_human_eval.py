"""The classifier's evaluation against people, the WebText hold-out slice, the raw-page readers
and the shipped default model (no Spark)."""
import io
import json

import numpy as np
import pytest
import zstandard

from pipeline.core.config import InputError
from pipeline.quality import evaluation
from pipeline.quality.classifier import DEFAULT_MODEL_DIR, ExportedModel, check_model_dir
from pipeline.quality.heldout import HELDOUT_FRACTION, heldout_mask, is_heldout
from pipeline.quality.raw_pages import read_raw_pages

GOOD = "The committee published a careful report on the history of the river and its old bridges."
BAD = "click here buy now cheap deals free shipping best price login cart"


def test_heldout_slice_is_a_tenth_fixed_by_text():
    texts = [f"document number {i} about rivers" for i in range(5000)]
    mask = heldout_mask(texts)
    assert abs(mask.mean() - HELDOUT_FRACTION) < 0.015
    assert [is_heldout(t) for t in texts[:50]] == mask[:50].tolist()
    # The text decides, not its position or id; whitespace and case are normalised.
    assert is_heldout(texts[7]) == is_heldout(texts[7].upper().replace(" ", "  "))


def test_cs336_records_are_the_text_after_the_dash_line(tmp_path):
    dash = "-" * 32
    dump = tmp_path / "dump.txt"
    dump.write_text(f"{dash}\nLABEL: False\ntext: first page\nline two\n{dash}\n{dash}\n"
                    f"LANGUAGE: de SCORE: 0.9\ntext: zweite Seite\n{dash}\n{dash}\nLABEL: True\ntext: \n{dash}\n",
                    encoding="utf-8")
    rows, skipped = read_raw_pages([str(dump)])
    assert [r["text"] for r in rows] == ["first page\nline two", "zweite Seite"]
    assert not any("LABEL" in r["text"] for r in rows) and skipped == {"read:missing_text": 1}


def test_hplt_html_goes_through_the_extractor_and_bad_utf8_is_counted(tmp_path):
    page = "<html><body><article><p>" + " ".join([GOOD] * 5) + "</p></article></body></html>"
    lines = [json.dumps({"u": "http://a.example/", "h": page}).encode(), b'{"u": "x", "h": "\xff\xfe"}',
             json.dumps({"u": "http://b.example/", "t": "no html"}).encode()]
    path = tmp_path / "CC.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(b"\n".join(lines) + b"\n"))
    rows, skipped = read_raw_pages([str(path)])
    assert len(rows) == 1 and "careful report" in rows[0]["text"] and "<p>" not in rows[0]["text"]
    assert skipped == {"read:bad_utf8": 1, "read:missing_html": 1}


def test_human_file_without_label_stops_in_one_line(tmp_path):
    bad = tmp_path / "h.jsonl"
    bad.write_text('{"text": "a", "label": 1}\n{"text": "b"}\n')
    with pytest.raises(InputError, match="line 2"):
        evaluation.load_human(str(bad))


def test_human_report_beside_baselines_with_paired_gap():
    rng = np.random.default_rng(0)
    labels = np.array([i % 2 for i in range(200)])
    texts = [(GOOD if y else BAD) * int(rng.integers(1, 4)) for y in labels]
    scores = labels * 0.6 + rng.random(200) * 0.5      # informative, noisy
    report = evaluation.human_report(texts, labels, scores)
    assert report["model"]["low"] <= report["model"]["auc"] <= report["model"]["high"]
    gap = report["gap_to_word_count"]
    assert gap["gap"] == pytest.approx(report["model"]["auc"] - report["word_count"]["auc"])
    assert gap["low"] <= gap["gap"] <= gap["high"]
    assert sum(row["n"] for row in report["calibration"]) == 200
    assert report["selection_half"]["n"] + report["report_half"]["n"] == 200
    # The halves are fixed by the texts: the same split on every run.
    assert evaluation.selection_half(texts).tolist() == evaluation.selection_half(list(texts)).tolist()


def test_default_model_ships_and_scores():
    import os

    check_model_dir("default")
    size = sum(os.path.getsize(os.path.join(DEFAULT_MODEL_DIR, f)) for f in os.listdir(DEFAULT_MODEL_DIR))
    assert size <= 10 * 2**20
    model = ExportedModel.load("default")
    article = ("The committee published a careful report on the history of the river. It argues that the "
               "old bridges were built by the town's merchants, who paid for them with a tax on grain. ") * 5
    menu = "\n".join(["Home", "Login", "Cart", "Cheap deals", "Free shipping", "Contact us", "Sitemap"] * 5)
    scores = model.score_texts([article, menu, None])
    assert np.all((scores >= 0) & (scores <= 1)) and scores[0] > scores[1]
    data = json.loads(open(os.path.join(DEFAULT_MODEL_DIR, "data.json")).read())
    assert all(len(digest) == 64 for digest in data["files"].values())


def test_fast_auc_equals_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300) + labels * 0.3, 1)     # many ties
    assert evaluation.fast_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)

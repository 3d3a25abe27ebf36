"""The worker-side score and sample steps: rows and Arrow batches decide alike, by GPT-3's rule."""
import json

import numpy as np
import pyarrow as pa
import pytest

from pipeline.core.schema import STAGED_ARROW_SCHEMA, docs_to_arrow, empty_doc
from pipeline.quality.classifier import ExportedModel
from pipeline.quality.keep import SAMPLE_DROP, keep_steps
from pipeline.quality.sampling import keep_draws, pareto_keep
from pipeline.steps import SNIPPET_CHARS

WIDTH = 64


@pytest.fixture()
def model_dir(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "weights.npz", coefficients=rng.normal(size=WIDTH) * 3, intercept=np.array([0.2]))
    (tmp_path / "model.json").write_text(json.dumps({"features": "l2", "num_features": WIDTH, "text_chars": 1000}))
    return str(tmp_path)


def steps(model_dir, alpha: float, seed: int, sample: bool):
    return keep_steps(model_dir, {"quality_filter": {"alpha": alpha, "seed": seed, "sample": sample}})


def run(step_list, rows):
    from collections import Counter

    return step_list.run(rows, Counter())


def staged_rows() -> list[dict]:
    words = "river bridge casino bonus history school deal winner garden church".split()
    rows = [empty_doc(id=f"doc-{i}", text=" ".join(words[(i * 3 + k) % len(words)] for k in range(40)) * 5,
                      drop_reason=None) for i in range(40)]
    rows[3].update(drop_reason="langid:not_en", text="already dropped")
    return rows


def test_rows_score_live_documents_and_apply_the_pareto_rule(model_dir):
    rows = run(steps(model_dir, alpha=2.0, seed=9, sample=True), staged_rows())
    live = [r for i, r in enumerate(rows) if i != 3]
    scores = ExportedModel.load(model_dir).score_texts([r["text"] for r in staged_rows() if r["drop_reason"] is None])
    np.testing.assert_allclose([r["quality_score"] for r in live], scores)
    expected = pareto_keep(keep_draws(9, [r["id"] for r in live]), scores, 2.0)
    assert [r["drop_reason"] is None for r in live] == expected.tolist()
    assert 0 < expected.sum() < len(live)                  # the fixture exercises both outcomes
    assert all(len(r["text"]) <= SNIPPET_CHARS for r in live if r["drop_reason"] == SAMPLE_DROP)
    assert rows[3]["quality_score"] is None and rows[3]["drop_reason"] == "langid:not_en"


def test_arrow_batches_decide_like_rows(model_dir):
    keep = steps(model_dir, alpha=2.0, seed=9, sample=True)
    batch = docs_to_arrow(staged_rows(), STAGED_ARROW_SCHEMA)
    (out,) = list(keep.staged_batches(iter([batch])))
    assert out.schema == batch.schema
    assert out.to_pylist() == pa.RecordBatch.from_pylist(
        [{**r, "meta": None} for r in run(keep, staged_rows())], schema=STAGED_ARROW_SCHEMA).to_pylist()


def test_without_sampling_every_live_document_is_scored_and_kept(model_dir):
    rows = run(steps(model_dir, alpha=9.0, seed=1, sample=False), staged_rows())
    assert [r["drop_reason"] for r in rows].count(None) == 39
    assert all(r["quality_score"] is not None for r in rows if r["drop_reason"] is None)

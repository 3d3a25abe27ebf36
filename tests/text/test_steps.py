"""The document steps API: the list from config, a new step added as one class plus one config
entry, the funnel derived from the list, and run_steps on plain texts (no Spark)."""
from __future__ import annotations

from collections import Counter

import pytest

from pipeline.core.config import ConfigError, load_config
from pipeline.steps import Step, StepList, register, registered, run_steps

GOOD = """The history of the river town begins with a small ferry crossing that served farmers and traders.
Over the following decades the crossing grew into a market, and the market drew families who built houses along the bank.
When the railway arrived, the town changed again: warehouses replaced the orchards, and the old ferry was retired.
Historians still argue about whether the railway saved the town or merely delayed its decline by a generation.
Today the museum keeps photographs of those years, together with letters written by the first station master."""
GERMAN = "Die Geschichte der Stadt am Fluss beginnt mit einer kleinen Fähre, die Bauern und Händlern diente."


def test_default_list_and_switches():
    config = load_config()
    assert StepList.from_config(config).names == ["extract", "langid", "c4_lines", "gopher_quality",
                                                  "gopher_repetition"]
    off = load_config(overrides=["heuristics.enabled=false"])
    assert StepList.from_config(off).names == ["extract", "langid"]
    with pytest.raises(ConfigError, match="quality_filter.steps: unknown step 'nope'"):
        StepList.from_config(load_config(overrides=["quality_filter.steps=[extract, nope]"]))


def test_run_steps_gives_a_mask_reasons_and_cleaned_texts():
    noisy = GOOD + "\nShare this"
    result = run_steps([noisy, GERMAN, "", "Too short.\nReally."])
    assert result.kept.tolist() == [True, False, False, False]
    assert result.reasons == [None, "langid:language", "read:empty", "heuristics:c4_too_few_lines"]
    assert result.texts[0] == GOOD                     # C4 removed the line without punctuation
    assert result.docs[1]["lang"] == "de" and result.docs[0]["digest"]
    everything = run_steps([GERMAN], load_config(overrides=["langid.languages=[]"]), ["langid"])
    assert everything.kept.tolist() == [True] and everything.docs[0]["lang"] == "de"


class Shouting(Step):
    """What a new filter looks like: a name, settings from config, a batch function."""
    name = "test_shouting"

    def __init__(self, limit: float):
        self.limit = limit

    @classmethod
    def from_config(cls, config):
        return cls(config["quality_filter"]["alpha"] / 100)      # any config key would do

    def filter(self, docs):
        return ["caps" if sum(c.isupper() for c in d["text"]) > self.limit * len(d["text"]) else None
                for d in docs]


def test_a_registered_step_is_one_config_entry_away():
    register(Shouting)
    try:
        config = load_config(overrides=["quality_filter.steps=[c4_lines, test_shouting]"])
        result = run_steps([GOOD, GOOD.upper()], config)
        assert result.reasons == [None, "test_shouting:caps"]
        steps = StepList.from_config(config)
        funnel = steps.funnel({"kept": 8, "read:not_html": 2, "test_shouting:caps": 1})
        assert [(r["step"], r["in"], r["out"], r["dropped"]) for r in funnel] == [
            ("read", 11, 9, {"not_html": 2}), ("c4_lines", 9, 9, {}), ("test_shouting", 9, 8, {"caps": 1})]
    finally:
        registered().pop("test_shouting")


def test_funnel_tells_the_heuristics_steps_apart_and_times_each_step():
    steps = StepList.from_config(load_config(), ["c4_lines", "gopher_quality", "gopher_repetition"])
    funnel = steps.funnel({"kept": 1, "heuristics:c4_too_few_lines": 2, "heuristics:min_words": 3,
                           "heuristics:top_2gram": 4, "heuristics:duplicate_lines": 5})
    assert [(r["step"], r["dropped"]) for r in funnel] == [
        ("read", {}), ("c4_lines", {"c4_too_few_lines": 2}), ("gopher_quality", {"min_words": 3}),
        ("gopher_repetition", {"duplicate_lines": 5, "top_2gram": 4})]
    assert funnel[-1]["out"] == 1
    seconds: Counter = Counter()
    rows = [{"id": "a", "text": GOOD, "lang": "en", "drop_reason": None}]
    steps.run(rows, seconds)
    assert set(seconds) == {"c4_lines", "gopher_quality", "gopher_repetition"} and rows[0]["drop_reason"] is None

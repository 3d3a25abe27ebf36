"""Document steps, as datatrove has them: each step has a name, a batch function that gives every
document a drop reason (None = kept) and its own timing; a pass is a list of steps from config.

    quality_filter.steps: [extract, langid, c4_lines, gopher_quality, gopher_repetition]

Every pass that makes documents runs such a list: quality_filter on WARC files and on document
folders (text inputs skip `extract`), extract_webtext, and plain Python lists of texts through
`run_steps` (the classifier's training texts, the ablation). With `--model`, quality_filter adds
two more steps of the same kind, `score` (the classifier) and `sample` (GPT-3's pareto keep), from
pipeline/quality/keep.py. The funnel in `_stats.json`, the per-step seconds and the report all
derive from the list.

The API (pipeline/steps/base.py):
    Step                  name, reason_prefix, streams; from_config(config) -> Step | None;
                          reasons() -> the reasons it gives; filter(docs) -> [reason | None, ...]
    SectionStep           a Step configured by one config section (`section`, off when not `enabled`)
    StepList              from_config(config, names=None); run(rows, seconds); funnel(counts)
    run_steps(texts, config=None, steps=None, langs=None, ids=None) -> StepsResult(kept, reasons, docs)

    from pipeline.steps import run_steps
    result = run_steps(["some text", ...])              # the configured steps, in this process
    result.kept, result.reasons, result.texts           # mask, "step:reason" | None, cleaned texts

Adding a filter step is one file plus one config entry:
1. pipeline/steps/my_filter.py:

       from pipeline.steps.base import SectionStep, register

       @register
       class MyFilter(SectionStep):
           name = "my_filter"                       # drop reasons are my_filter:<reason>
           section = "my_filter"                    # its settings, as self.s (enabled: false = off)
           def filter(self, docs):                  # the documents still kept, in batches
               return ["too_long" if len(d["text"]) > self.s["max_chars"] else None for d in docs]

   (or subclass Step and write `from_config(config) -> Step | None` for settings from anywhere)

2. conf/pipeline.yaml: put `my_filter` into `quality_filter.steps` where it should run, and give
   it a section (`my_filter: {max_chars: 100000}`), which the config loader then checks.
Modules in this package are found by name; nothing else needs editing.
"""
from pipeline.steps.base import (READ, SNIPPET_CHARS, SectionStep, Step, StepList, StepsResult, register, registered,
                                 run_steps)

__all__ = ["READ", "SNIPPET_CHARS", "SectionStep", "Step", "StepList", "StepsResult", "register", "registered", "run_steps"]

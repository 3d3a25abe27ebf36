"""`webmix ablate --config conf/ablation_realdata.yaml --out runs/ablation`: the data ablation.

Each variant's corpus is made by the real stages (shared prefixes reused), decontaminated against
the held-out sets, tokenized with one tokenizer; the same GPT preset trains on every variant for
the same tokens and seeds; `train eval` scores held-out bits per byte. Writes OUT/ablation.json,
OUT/timings.json and OUT/report/ (ablation.md, section.html, ablation.png). See docs/ablation.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.core.config import ConfigError, InputError, parse_override

PHASES = ("corpus", "train", "report")   # pipeline.ablation.run.PHASES (kept import-light for --help)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="webmix ablate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="the ablation YAML (variants as data)")
    parser.add_argument("--out", default="runs/ablation", help="run folder (default runs/ablation)")
    parser.add_argument("--master", default="local[2]", help="Spark master of the corpus stages")
    parser.add_argument("--check", action="store_true", help="validate the config and print the plan; run nothing")
    parser.add_argument("--phase", choices=PHASES, action="append",
                        help="run only this phase (repeatable; default all): corpus (Spark stages), train "
                             "(training and evaluation), report (ablation.json, timings.json, report/)")
    parser.add_argument("--list-variants", action="store_true", help="print the variant names as JSON (the DAG maps over them)")
    parser.add_argument("--variant", action="append", help="with --phase train: only this variant (repeatable)")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="top-level config keys, e.g. seeds=[1]")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from pipeline.ablation.config import check_raw_pages, load_config

    args = parse_args(argv)
    run = Path(args.out).resolve()
    try:
        overrides = {}
        for text in args.overrides:
            path, value = parse_override(text)
            overrides[".".join(path)] = value
        cfg = load_config(args.config, overrides)
        if args.list_variants:
            print(json.dumps(list(cfg.variants)))
            return 0
        check_raw_pages(cfg)
        if args.check:
            from pipeline.ablation.plan import build_plan

            for stage in build_plan(cfg, str(run)).stages:
                print(f"{stage.name}: pipeline/{stage.script}.py {' '.join(stage.args)}")
            return 0
        from pipeline.ablation.report import build_results, build_timings, write_outputs
        from pipeline.ablation.run import prepare, recorded_seconds, run_ablation, token_counts

        phases = args.phase or PHASES
        unknown = [v for v in args.variant or [] if v not in cfg.variants]
        if unknown:
            raise ConfigError(f"--variant: no variant {unknown[0]!r}; variants: {', '.join(cfg.variants)}")
        if "corpus" in phases or "train" in phases:
            run_ablation(cfg, run, args.master, phases, args.variant)
        if "report" not in phases:
            return 0
        tasks, plan = prepare(cfg, run)
        unique, epochs = token_counts(cfg, run, plan)
        seconds = recorded_seconds(run)
        results = build_results(cfg, run, tasks, unique, epochs, plan)
        text = write_outputs(cfg, run, results, build_timings(cfg, seconds, plan))
    except (ConfigError, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(text)
    print(f"[ablate] {run / 'ablation.json'}; report section: {run / 'report'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

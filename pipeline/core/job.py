"""The one small Spark job base class (in the spirit of cc-pyspark's `sparkcc.py`).

An entry script in `pipeline/` is a Job subclass plus `if __name__ == "__main__": sys.exit(Job().main())`.
The base class owns what every stage does alike: `--help`, `--config`, `key=value` overrides,
validation before Spark starts (one line, exit 2), skipping a complete output with the same
fingerprint unless `--force`, the Spark session, and `_stats.json` (seconds, config hash,
fingerprint, version) beside the output.
"""
from __future__ import annotations

import argparse
import logging
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline.core import output
from pipeline.core.config import ConfigError, InputError, config_hash, load_config

log = logging.getLogger("webmix")


def package_version() -> str:
    try:
        return metadata.version("webmix")
    except metadata.PackageNotFoundError:
        return "0+unknown"


class Job:
    name: str = ""            # the job's section in conf/pipeline.yaml
    sections: tuple[str, ...] = ()   # further sections whose values change this job's output
    description: str = ""

    # --- what a subclass overrides -------------------------------------------------------------
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Flags of this job (besides --config, --force and key=value overrides)."""

    def flag_overrides(self, args: argparse.Namespace) -> list[str]:
        """Flags that are shorthands for config keys, as `section.key=value` strings."""
        return []

    def validate(self, args: argparse.Namespace, config: dict) -> None:
        """Check inputs, models and config before Spark starts; raise InputError / ConfigError."""

    def output_path(self, args: argparse.Namespace) -> str:
        return args.output

    def fingerprint_inputs(self, args: argparse.Namespace, config: dict) -> list[str]:
        """Paths (inputs, model files) whose content changes this job's output."""
        return []

    def run(self, spark, args: argparse.Namespace, config: dict) -> dict[str, Any]:
        """Do the work; return the statistics (computed from the data) for `_stats.json`."""
        raise NotImplementedError

    # --- the shared machinery -----------------------------------------------------------------
    def parser(self) -> argparse.ArgumentParser:
        script = Path(sys.argv[0]).name if sys.argv and sys.argv[0].endswith(".py") else f"{self.name}.py"
        parser = argparse.ArgumentParser(
            prog=f"spark-submit pipeline/{script}", description=self.description,
            formatter_class=argparse.RawDescriptionHelpFormatter)
        self.add_arguments(parser)
        parser.add_argument("--config", help="a YAML file merged over conf/pipeline.yaml")
        parser.add_argument("--force", action="store_true",
                            help="run even if the output is complete for the same fingerprint")
        parser.add_argument("overrides", nargs="*", metavar="section.key=value",
                            help="override any configuration key, e.g. heuristics.min_words=30")
        return parser

    def shorthand_flags(self, args: argparse.Namespace) -> set[str]:
        """The flags that `flag_overrides` turns into config keys: the resolved config already holds
        their effect, so they are left out of the fingerprint (`--alpha 9`, `quality_filter.alpha=9`,
        a --config file saying alpha: 9 and no flag at all are one configuration). Found by resetting
        each flag to its default and seeing whether the overrides change, so no job lists them twice."""
        parser, given = self.parser(), self.flag_overrides(args)
        required = {a.dest for a in parser._actions if a.required}   # a shorthand has a default
        flags = set()
        for dest, value in vars(args).items():
            if dest in required:
                continue
            default = parser.get_default(dest)
            if value != default and self.flag_overrides(argparse.Namespace(**{**vars(args), dest: default})) != given:
                flags.add(dest)
        return flags

    def fingerprint(self, args, config: dict) -> str:
        """The canonical JSON of the resolved config (this job's sections) and the inputs only: the
        arguments that are not config shorthands (input and output locations, source names) and the
        content fingerprints of the input files."""
        skipped = {"force", "config", "overrides", *self.shorthand_flags(args)}
        parser = self.parser()
        parts = {
            "job": self.name,
            "config": self.relevant_config(config),
            "inputs": {  # an argument left at its default says nothing the version does not
                "args": {k: v for k, v in vars(args).items() if k not in skipped and v != parser.get_default(k)},
                "content": [output.fingerprint_of(p) for p in self.fingerprint_inputs(args, config)],
            },
            "version": package_version(),
        }
        return config_hash(parts)

    def relevant_config(self, config: dict) -> dict:
        return {s: config.get(s) for s in (self.name, *self.sections)}

    def resolve(self, args: argparse.Namespace) -> dict:
        """The resolved configuration: defaults, --config file, flag shorthands, key=value overrides."""
        return load_config(args.config, [*self.flag_overrides(args), *args.overrides])

    def main(self, argv: list[str] | None = None) -> int:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        args = self.parser().parse_args(argv)
        try:
            config = self.resolve(args)
            self.validate(args, config)
            fingerprint = self.fingerprint(args, config)
        except (ConfigError, InputError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        out = self.output_path(args)
        if not args.force and output.is_complete(out, fingerprint):
            print(f"{self.name}: {out} is complete for this configuration; skipped (use --force to redo)")
            return 0
        from pipeline.core.spark import get_spark  # imported late: --help and config errors need no JVM

        spark = get_spark(f"webmix-{self.name}")
        with output.Timer() as timer:
            stats = self.run(spark, args, config)
        stats.update({
            "job": self.name, "output": out, "seconds": timer.seconds, "fingerprint": fingerprint,
            "config_hash": config_hash(self.relevant_config(config)),
            "version": package_version(),
        })
        output.write_stats(out, stats)
        print(f"{self.name}: done in {timer.seconds:.1f}s -> {out}")
        return 0

"""`webmix config [SECTION ...] [--config FILE] [section.key=value ...]`: check a configuration and print
it resolved (defaults, then the file, then the overrides), as the stages will see it."""
from __future__ import annotations

import argparse
import sys

import yaml

from pipeline.core.config import ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="webmix config", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="a YAML file merged over conf/pipeline.yaml")
    parser.add_argument("words", nargs="*", metavar="SECTION | section.key=value",
                        help="sections to print (default: all), and overrides")
    args = parser.parse_intermixed_args(argv)  # sections and overrides before or after --config
    overrides = [w for w in args.words if "=" in w]
    sections = [w for w in args.words if "=" not in w]
    try:
        config = load_config(args.config, overrides)
        unknown = [s for s in sections if s not in config]
        if unknown:
            raise ConfigError(f"{unknown[0]}: unknown section (known: {', '.join(sorted(config))})")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    shown = {s: config[s] for s in sections} if sections else config
    print(yaml.safe_dump(shown, sort_keys=False, default_flow_style=None, width=110), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

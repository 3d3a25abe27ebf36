"""`webmix`: the commands that need no Spark session.

    webmix sample OUT_DIR      write the embedded sample data (crawl WARCs, Reddit dump, curated text)
    webmix report RUN_DIR      render the run report (HTML) from _stats.json files and trainer metrics
    webmix shards split|gather split a crawl into per-shard listings; commit the shards' outputs as one
    webmix config [SECTION]    check a configuration (--config FILE, key=value) and print it resolved
    webmix ablate --config conf/ablation_realdata.yaml --out runs/ablation   the data ablation
"""
from __future__ import annotations

import sys

COMMANDS = {
    "sample": ("pipeline.sample.cli", "write the embedded sample data set"),
    "report": ("pipeline.report.cli", "render the HTML run report of a run directory"),
    "shards": ("pipeline.readers.crawl_shards", "run the CommonCrawl extraction as one job per shard"),
    "config": ("pipeline.core.show_config", "check a configuration and print it resolved"),
    "ablate": ("pipeline.ablation.cli", "train small GPTs on recipe variants and compare them"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(__doc__.strip())
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module_name, _ = COMMANDS[argv[0]]
    module = __import__(module_name, fromlist=["main"])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())

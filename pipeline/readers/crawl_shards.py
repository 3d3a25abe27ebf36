"""`webmix shards`: the CommonCrawl extraction as one job per shard of the crawl's files.

    webmix shards split --input 'crawl/*.warc.gz' --shards 4 --listings RUN/crawl_shards \\
        --documents RUN/docs/cc_raw
    spark-submit pipeline/quality_filter.py --input RUN/crawl_shards/shard=00000.warc.paths \\
        --output RUN/docs/cc_raw/shard=00000                        # ... one job per shard
    webmix shards gather RUN/docs/cc_raw --listings RUN/crawl_shards

`split` expands the input the way quality_filter does (files, folders, globs, CommonCrawl
`warc.paths(.gz)` listings; local, s3://, https://) and deals the files, in order, into N contiguous
runs whose lengths differ by at most one. Each run becomes a `warc.paths`-style listing of full paths
or URLs, so quality_filter takes it as --input whatever `readers.commoncrawl_base_url` is. A listing
is rewritten only when its files change: the extraction of a remote crawl fingerprints the listing
file itself, so an unchanged shard stays complete and is skipped. The last line printed is JSON, each
shard's quality_filter arguments: what Airflow maps the extraction task over.

`gather` commits the shards as one document folder: once every current shard is complete it removes
whatever else the folder holds (shards of an earlier, larger split), then writes `_stats.json` (the
shards' counts summed, their fingerprints hashed into one) and `_SUCCESS`. The shard folders are
named like Hive partitions, so `spark.read.parquet(folder)` reads them all as one data set (with a
`shard` column, which the document readers do not select) and the folder is an input like any other.
"""
from __future__ import annotations

import argparse
import json
import sys
from functools import reduce


from pipeline.core.config import ConfigError, InputError, config_hash, load_config
from pipeline.core.output import SUCCESS_FILE, fs_path, is_complete, join, read_stats, write_stats
from pipeline.readers.inputs import expand_inputs

SHARD = "shard={:05d}"
LISTING_SUFFIX = ".warc.paths"
EXAMPLES_PER_REASON = 3


def split_evenly(paths: list[str], shards: int) -> list[list[str]]:
    """Contiguous runs of the paths, in order, none empty, their lengths differing by at most one."""
    shards = max(1, min(shards, len(paths)))
    size, extra = divmod(len(paths), shards)
    bounds = [k * size + min(k, extra) for k in range(shards + 1)]
    return [paths[bounds[k]:bounds[k + 1]] for k in range(shards)]



def _write_if_changed(fs, path: str, text: str) -> None:
    if fs.exists(path) and fs.cat_file(path).decode("utf-8") == text:
        return
    with fs.open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def split(specs: list[str], shards: int, listings: str, documents: str, config: dict) -> list[list[str]]:
    """Write one listing per shard under `listings`; return each shard's quality_filter arguments."""
    if shards < 1:
        raise ConfigError(f"--shards must be at least 1, got {shards}")
    runs = split_evenly(expand_inputs(specs, config), shards)
    names = [SHARD.format(k) for k in range(len(runs))]
    fs, root = fs_path(listings)
    fs.makedirs(root, exist_ok=True)
    for name, files in zip(names, runs):
        _write_if_changed(fs, join(root, name + LISTING_SUFFIX), "".join(f + "\n" for f in files))
        print(f"{name}: {len(files)} files", flush=True)
    current = {name + LISTING_SUFFIX for name in names}
    for stale in fs.glob(join(root, "shard=*" + LISTING_SUFFIX)):
        if stale.rsplit("/", 1)[-1] not in current:
            fs.rm(stale)
    # The shards are about to be (re)written: the folder is not complete until gather commits it again.
    docs_fs, docs_root = fs_path(documents)
    if docs_fs.exists(join(docs_root, SUCCESS_FILE)):
        docs_fs.rm(join(docs_root, SUCCESS_FILE))
    return [["--input", join(listings, name + LISTING_SUFFIX), "--output", join(documents, name)]
            for name in names]


def shard_names(listings: str) -> list[str]:
    """The shards of the latest split: the names of the listings it left."""
    fs, root = fs_path(listings)
    names = sorted(p.rsplit("/", 1)[-1][:-len(LISTING_SUFFIX)]
                   for p in fs.glob(join(root, "shard=*" + LISTING_SUFFIX)))
    if not names:
        raise InputError(f"no shard listings in {listings} (run `webmix shards split` first)")
    return names


def _add(a, b):
    """Counts add up (numbers, key by key in dicts; lists concatenate); anything else is the first's."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a + b if isinstance(a + b, int) else round(a + b, 3)
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _add(a[k], b[k]) if k in a and k in b else a.get(k, b.get(k)) for k in {**a, **b}}
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    return a


def merge_stats(shards: list[dict]) -> dict:
    """The shards' `_stats.json` as one: counts summed; the funnel summed step by step (the shards
    ran the same steps); a few examples per reason (from the first shards); the largest worker peak
    memory."""
    merged = reduce(_add, shards)
    if all(isinstance(s.get("funnel"), list) for s in shards):
        merged["funnel"] = [{"step": rows[0]["step"], "in": sum(r["in"] for r in rows),
                             "out": sum(r["out"] for r in rows), "dropped": dict(sorted(reduce(_add, [r["dropped"] for r in rows]).items()))}
                            for rows in zip(*(s["funnel"] for s in shards))]
    if isinstance(merged.get("examples"), dict):
        merged["examples"] = {reason: rows[:EXAMPLES_PER_REASON] for reason, rows in merged["examples"].items()}
    peaks = [s["files"]["worker_peak_rss_mb"] for s in shards if "worker_peak_rss_mb" in s.get("files", {})]
    if peaks:
        merged["files"]["worker_peak_rss_mb"] = max(peaks)
    return merged


def gather(documents: str, listings: str) -> bool:
    """Commit the folder of shards as one document folder; False when it already was, unchanged."""
    names = shard_names(listings)
    folders = [join(documents, name) for name in names]
    incomplete = [f for f in folders if not is_complete(f)]
    if incomplete:
        raise InputError(f"{len(incomplete)} of {len(folders)} shards are not complete, e.g. {incomplete[0]} "
                         f"(run their extraction first)")
    shards = [read_stats(f) for f in folders]
    merged = merge_stats(shards)
    merged.update(output=documents, shards=names, fingerprint=config_hash([s["fingerprint"] for s in shards]))
    if is_complete(documents, merged["fingerprint"]):
        return False
    fs, root = fs_path(documents)
    if fs.exists(join(root, SUCCESS_FILE)):
        fs.rm(join(root, SUCCESS_FILE))
    for entry in fs.ls(root, detail=False):
        if entry.rstrip("/").rsplit("/", 1)[-1] not in names:
            fs.rm(entry, recursive=True)
    write_stats(documents, merged)
    fs.touch(join(root, SUCCESS_FILE))
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="webmix shards", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    split_cmd = commands.add_parser("split", help="write one listing per shard; print the shards' arguments")
    split_cmd.add_argument("--input", nargs="+", required=True, metavar="SPEC",
                           help="WARC/WET files, folders, globs or a CommonCrawl warc.paths(.gz) listing")
    split_cmd.add_argument("--shards", type=int, required=True, help="how many shards (fewer if fewer files)")
    split_cmd.add_argument("--listings", required=True, help="folder for the listings, shard=NNNNN.warc.paths")
    split_cmd.add_argument("--documents", required=True,
                           help="the sharded document folder; each shard's output is DOCUMENTS/shard=NNNNN")
    split_cmd.add_argument("--config", help="a YAML file merged over conf/pipeline.yaml")
    gather_cmd = commands.add_parser("gather", help="commit a folder of complete shards as one document folder")
    gather_cmd.add_argument("documents", help="the sharded document folder")
    gather_cmd.add_argument("--listings", required=True, help="the listings folder of the split")
    args = parser.parse_args(argv)
    try:
        if args.command == "split":
            shards = split(args.input, args.shards, args.listings, args.documents, load_config(args.config))
            print(json.dumps(shards))
        elif gather(args.documents, args.listings):
            print(f"gather: {args.documents} committed ({len(shard_names(args.listings))} shards)")
        else:
            print(f"gather: {args.documents} is complete for these shards; skipped")
    except (ConfigError, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Gather what a run left behind, read the way each stage writes it: every stage's `_stats.json`
(found where pipeline.chain puts it, plus any other under the run), the classifier's report.json,
the build_mixture manifest (GPT-3 Table 2.2 for the run), the token manifests, the trainer's
config.json / metrics.jsonl / samples.txt, and the `lang` column of the document folders.

Only small JSON files and one string column are read; a missing piece leaves its section out
rather than failing the report.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.chain import SOURCES, Inputs, steps
from pipeline.core.output import STATS_FILE, SUCCESS_FILE
from pipeline.core.schema import KEPT
OUTPUT_FLAGS = ("--output", "--out")
IDENTIFY_LIMIT = 2000   # documents of a folder without languages that the report identifies


@dataclass
class Stage:
    task: str                 # the chain's task id (or the job name for a stage outside the chain)
    path: str                 # output folder relative to the run
    stats: dict
    complete: bool            # Spark's _SUCCESS is there

    @property
    def job(self) -> str:
        return self.stats.get("job", self.task)


@dataclass
class RunData:
    root: Path
    stages: list[Stage] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)            # chain tasks without output yet
    classifier: dict | None = None                              # models/classifier/report.json
    languages: dict[str, Counter] = field(default_factory=dict)  # document folder -> lang counts
    identified_here: list[str] = field(default_factory=list)     # folders without `lang`, identified by the report
    mixture: dict | None = None                                 # mixture/manifest.json
    token_manifests: dict[str, dict] = field(default_factory=dict)  # tokens/<source>/manifest.json
    train_config: dict | None = None                            # train/config.json
    metrics: list[dict] = field(default_factory=list)           # train/metrics.jsonl records
    samples: str = ""                                           # train/samples.txt
    dedup_pairs: list[dict] = field(default_factory=list)       # removed duplicate beside its survivor

    def stage(self, task: str) -> Stage | None:
        return next((s for s in self.stages if s.task == task), None)

    def stages_of(self, job: str) -> list[Stage]:
        return [s for s in self.stages if s.job == job]


def load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def chain_outputs(root: Path) -> list[tuple[str, Path]]:
    """(task id, output folder) of every chain step that writes one, in chain order."""
    blank = Inputs(run=str(root), crawl="", reddit="", wikipedia="", books="", evals="")
    outputs = []
    for step in steps(blank):
        for flag in OUTPUT_FLAGS:
            if flag in step.args:
                outputs.append((step.task_id, Path(step.args[step.args.index(flag) + 1])))
    return outputs


def collect(root: str | Path) -> RunData:
    root = Path(root)
    data = RunData(root=root)
    seen: set[Path] = set()
    for task, folder in chain_outputs(root):
        stats = load_json(folder / STATS_FILE)
        if isinstance(stats, dict):
            data.stages.append(Stage(task, _rel(folder, root), stats, (folder / SUCCESS_FILE).exists()))
            seen.add(folder.resolve())
        elif task != "train":
            data.missing.append(task)
    for stats_path in sorted(root.rglob(STATS_FILE)):   # stages run by hand into the same folder
        folder = stats_path.parent
        stats = load_json(stats_path)
        inside_chain_output = not seen.isdisjoint(folder.resolve().parents)   # a shard of a sharded output
        if folder.resolve() not in seen and not inside_chain_output and isinstance(stats, dict) and "job" in stats:
            data.stages.append(Stage(stats["job"], _rel(folder, root), stats, (folder / SUCCESS_FILE).exists()))

    classifier = data.stage("train_classifier")
    report_dir = root / classifier.path if classifier else root / "models" / "classifier"
    report = load_json(report_dir / "report.json")
    data.classifier = report if isinstance(report, dict) else None

    for folder in [root / "docs" / "cc_raw", *(root / "curated" / s for s in SOURCES)]:
        langs = _column(folder, "lang")
        if langs:
            if None in langs:      # a source no stage identified (the curated ones): identified here
                langs = [*filter(None, langs), *identify(folder)]
                data.identified_here.append(_rel(folder, root))
            data.languages[_rel(folder, root)] = Counter(langs)

    mixture = load_json(root / "mixture" / "manifest.json")
    data.mixture = mixture if isinstance(mixture, dict) and "table" in mixture else None
    for manifest_path in sorted((root / "tokens").glob("*/manifest.json")):
        manifest = load_json(manifest_path)
        if isinstance(manifest, dict) and isinstance(manifest.get("tokens"), dict):
            data.token_manifests[manifest.get("source") or manifest_path.parent.name] = manifest

    dedup = data.stage("dedup")
    if dedup is not None:
        data.dedup_pairs = dedup_pairs(root, root / dedup.path / "removed", root / "docs")

    train = root / "train"
    config = load_json(train / "config.json")
    data.train_config = config if isinstance(config, dict) else None
    data.metrics = read_metrics(train / "metrics.jsonl")
    if (train / "samples.txt").exists():
        data.samples = (train / "samples.txt").read_text(encoding="utf-8", errors="replace")[:4000]
    return data


def read_metrics(path: Path) -> list[dict]:
    """The trainer's JSON lines ({"step", "kind": train|val, ...}); a resumed run appends to the same
    file, so the latest record of a (kind, step) wins."""
    latest: dict[tuple, dict] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("step"), int):
            latest[(record.get("kind", "train"), record["step"])] = record
    return sorted(latest.values(), key=lambda r: (r["step"], r.get("kind", "")))


def dedup_pairs(root: Path, removed: Path, docs: Path, per_reason: int = 2, chars: int = 400) -> list[dict]:
    """A few removed duplicates beside the document that survived them, per removal reason: the
    smallest ids of dedup's removed/ table, their texts looked up in the input document folders."""
    import pyarrow.dataset as ds

    table = _table(removed, ["id", "source", "reason", "cluster_size", "survivor_id", "survivor_source"])
    if table is None or table.num_rows == 0:
        return []
    picked, taken = [], Counter()
    for r in sorted(table.to_pylist(), key=lambda r: (r["reason"], r["id"])):
        if taken[r["reason"]] < per_reason:
            taken[r["reason"]] += 1
            picked.append(r)
    wanted: dict[str, set] = {}
    for r in picked:
        wanted.setdefault(r["source"], set()).add(r["id"])
        wanted.setdefault(r["survivor_source"], set()).add(r["survivor_id"])
    texts: dict[tuple[str, str], dict] = {}
    for source, ids in wanted.items():
        found = _table(docs / str(source), ["id", "url", "text"], ds.field("id").isin(sorted(ids)))
        for doc in (found.to_pylist() if found is not None else []):
            texts[(source, doc["id"])] = {"id": doc["id"], "url": doc["url"], "source": source,
                                          "text": (doc["text"] or "")[:chars]}
    return [{"reason": r["reason"], "cluster_size": r["cluster_size"],
             "removed": texts.get((r["source"], r["id"]), {"id": r["id"], "source": r["source"], "text": ""}),
             "survivor": texts.get((r["survivor_source"], r["survivor_id"]),
                                   {"id": r["survivor_id"], "source": r["survivor_source"], "text": ""})}
            for r in picked]


def _rel(folder: Path, root: Path) -> str:
    try:
        return str(folder.relative_to(root))
    except ValueError:
        return str(folder)


def _table(folder: Path, columns: list[str], filter=None):
    """Columns of a committed Parquet folder, or None when it is absent, incomplete or lacks them."""
    if not (folder / SUCCESS_FILE).exists():
        return None
    import pyarrow.dataset as ds

    try:
        dataset = ds.dataset(str(folder), format="parquet", exclude_invalid_files=True,
                             ignore_prefixes=["_", "."])
        if not set(columns) <= set(dataset.schema.names):
            return None
        return dataset.to_table(columns=columns, filter=filter)
    except (OSError, ValueError):
        return None


def identify(folder: Path, limit: int = IDENTIFY_LIMIT) -> list[str]:
    """Languages of up to `limit` documents of a folder that have none, by the langid step."""
    import pyarrow.dataset as ds

    from pipeline.core.config import load_config
    from pipeline.steps import run_steps

    table = _table(folder, ["id", "text"], ds.field("lang").is_null())
    if table is None:
        return []
    texts = table.slice(0, limit).column("text").to_pylist()
    config = load_config(overrides=["langid.languages=[]"])
    return [doc["lang"] or "unknown" for doc in run_steps(texts, config, ["langid"]).docs]


def _column(folder: Path, name: str) -> list:
    """One column of a committed Parquet folder ([] when absent or unreadable)."""
    table = _table(folder, [name])
    return table.column(name).to_pylist() if table is not None else []

"""`webmix ablate`: make every variant's corpus with the real stages, train the same small GPT on
each for the same number of tokens and seeds, and score held-out bits per byte.

Spark stages run in one local JVM (pipeline.demo_stages.OneJvm: the same entry scripts
`spark-submit` runs, and their fingerprint skip, so a rerun or a variant sharing a prefix recomputes
nothing); training and evaluation are the `train` and `train eval` commands, as subprocesses (the
pipeline never imports the trainer), each with a fixed torch thread count.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from pipeline.ablation.config import REPO_ROOT, AblationConfig, block_size, mixture_weights
from pipeline.ablation.heldout_sets import write_heldout, write_if_changed, write_without_heldout
from pipeline.ablation.plan import Plan, build_plan, corpus_stages, mixture_spec, mixture_stages
from pipeline.core.config import ConfigError, InputError
from pipeline.demo_stages import OneJvm, StageLogs
from pipeline.tokens.shards import read_manifest

BIN = Path(sys.executable).parent
SECONDS_DIR = "logs/seconds"   # one file per invocation: the DAG's mapped train tasks run side by side


class AblationError(InputError):
    """A stage, training or evaluation run failed; one line naming it and its log."""


def unique_train_tokens(folder: str) -> int:
    manifest = read_manifest(folder)
    if manifest is None:
        raise AblationError(f"{folder}: no manifest.json (tokenize_corpus did not finish)")
    return int(manifest["tokens"]["train"])


def source_epochs(cfg: AblationConfig, weights: dict[str, float], unique: dict[str, int]) -> dict[str, float]:
    """Epochs of each source at train_tokens: its share of the tokens over its unique tokens."""
    total = sum(weights.values())
    return {s: cfg.train_tokens * w / total / max(unique[s], 1) for s, w in weights.items()}


def check_epochs(cfg: AblationConfig, unique: dict[str, int], shares: dict[str, dict[str, float]]) -> dict[str, float]:
    """Epochs per variant at train_tokens (a mixture: of its most repeated source); a run above
    max_epochs is refused before any training. `shares`: variant -> {corpus: weight}."""
    epochs = {v: source_epochs(cfg, w, unique) for v, w in shares.items()}
    worst_variant, worst = max(((v, c) for v in epochs for c in epochs[v]), key=lambda vc: epochs[vc[0]][vc[1]])
    if epochs[worst_variant][worst] > cfg.max_epochs:
        share = shares[worst_variant][worst] / sum(shares[worst_variant].values())
        raise ConfigError(f"ablation.train_tokens: {cfg.train_tokens} is {epochs[worst_variant][worst]:.1f} epochs "
                          f"of {worst} ({unique[worst]} unique tokens), above max_epochs={cfg.max_epochs:g}; at "
                          f"most {int(cfg.max_epochs * unique[worst] / share)}")
    return {v: max(e.values()) for v, e in epochs.items()}


class Runner:
    def __init__(self, cfg: AblationConfig, run: Path, master: str = "local[2]", driver_memory: str = "2g"):
        self.cfg, self.run = cfg, run
        self.logs = StageLogs(run / "logs")
        self.one_jvm = OneJvm(master, driver_memory)
        self.seconds: dict[str, float] = {}
        self.env = {**os.environ, "OMP_NUM_THREADS": str(cfg.threads), "MKL_NUM_THREADS": str(cfg.threads),
                    "PYSPARK_PYTHON": sys.executable, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}

    def say(self, line: str) -> None:
        self.logs.say(f"[ablate] {line}")

    def _timed(self, name: str, action) -> None:
        began = time.perf_counter()
        with self.logs.stage(name):
            code = action()
        self.seconds[name] = round(time.perf_counter() - began, 2)
        skipped = self.logs.skipped(name)
        self.say(f"{name:<48} {self.seconds[name]:6.1f}s" + ("  (complete: skipped)" if skipped else ""))
        if code != 0:
            self.say(self.logs.tail(name))
            raise AblationError(f"{name} failed (exit {code}); log: {self.logs.path(name)}")

    def spark(self, plan: Plan) -> None:
        os.environ.update(PYSPARK_PYTHON=self.env["PYSPARK_PYTHON"])
        for stage in plan.stages:
            self._timed(stage.name, lambda: self.one_jvm.run(REPO_ROOT / "pipeline" / f"{stage.script}.py",
                                                             list(stage.args)))

    def command(self, name: str, argv: list[str]) -> None:
        self._timed(name, lambda: _run(argv, self.env))

    def close(self) -> None:
        self.one_jvm.stop()
        self.logs.close()


def _run(argv: list[str], env: dict) -> int:
    return subprocess.run(argv, cwd=REPO_ROOT, env=env).returncode


def mixture_file(cfg: AblationConfig, plan: Plan, run: Path, variant: str, seed: int) -> Path:
    path = run / "train" / variant / f"seed{seed}" / "mixture.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(mixture_spec(cfg, plan, str(run), variant, seed), sort_keys=False))
    return path


PHASES = ("corpus", "train", "report")   # also in pipeline.ablation.cli (import-light)


def prepare(cfg: AblationConfig, run: Path) -> tuple[dict[str, str], Plan]:
    """The held-out files and the stage plan (cheap, deterministic: every phase recomputes them)."""
    run.mkdir(parents=True, exist_ok=True)
    tasks = write_heldout(cfg, run)
    plan = build_plan(cfg, str(run))
    for path, (inputs, field) in plan.heldout_free.items():
        write_without_heldout(inputs, field, Path(path))
    files = [f"{n}={run}/heldout/{n}.jsonl" for n, t in tasks.items() if t.endswith(".yaml")]
    conf_tasks = [str(REPO_ROOT / "conf" / "eval" / f"{t}.yaml") for t in tasks.values() if not t.endswith(".yaml")]
    corpus_stages(plan, str(run), files, conf_tasks, cfg.vocab_size)
    mixture_stages(plan, str(run), block_size(cfg), cfg.train_tokens)
    (run / "mixtures").mkdir(exist_ok=True)
    for variant in plan.mixtures:   # build_mixture's rows: those the first seed trains on
        write_if_changed(run / "mixtures" / f"{variant}.yaml",
                         yaml.safe_dump(mixture_spec(cfg, plan, str(run), variant, cfg.seeds[0]), sort_keys=False))
    return tasks, plan


def token_counts(cfg: AblationConfig, run: Path, plan: Plan) -> tuple[dict[str, int], dict[str, float]]:
    """Unique training tokens per corpus and variant (a mixture: its sources together) and epochs per
    variant; refuses a run above max_epochs."""
    unique = {c: unique_train_tokens(f"{run}/tokens/{c}") for c in plan.corpus}
    shares = {v: {v: 1.0} for v in cfg.variants if v not in plan.mixtures}
    for v, sources in plan.mixtures.items():
        shares[v] = {}
        for source, weight in mixture_weights(cfg, v).items():   # two sources may read one corpus
            shares[v][sources[source]] = shares[v].get(sources[source], 0.0) + weight
    epochs = check_epochs(cfg, unique, shares)
    return {v: sum(unique[c] for c in shares[v]) for v in cfg.variants}, epochs


def train_and_eval(runner: Runner, cfg: AblationConfig, plan: Plan, run: Path, tasks: dict[str, str],
                   variant: str) -> None:
    overrides = [f"{k}={v}" for k, v in cfg.train.items()]
    for seed in cfg.seeds:
        out = run / "train" / variant / f"seed{seed}"
        runner.command(f"train_{variant}_seed{seed}", [
            str(BIN / "train"), "--mixture", str(mixture_file(cfg, plan, run, variant, seed)),
            "--model", cfg.model, "--out", str(out), "--resume", "auto", f"train.seed={seed}",
            "progress=log", *overrides])
        runner.command(f"eval_{variant}_seed{seed}", [
            str(BIN / "train"), "eval", "--checkpoint", str(out), "--tasks", ",".join(tasks.values()),
            "--out", str(run / "eval" / variant / f"seed{seed}"),
            *(["--limit", str(cfg.eval_limit)] if cfg.eval_limit else [])])


def run_ablation(cfg: AblationConfig, run: Path, master: str = "local[2]", phases=PHASES,
                 variants: list[str] | None = None) -> None:
    """The corpus stages, then training and evaluation of each variant (all, or `variants`: the DAG
    maps this phase over them); the seconds of every step accumulate in RUN/logs/seconds.json."""
    tasks, plan = prepare(cfg, run)
    runner = Runner(cfg, run, master)
    try:
        if "corpus" in phases:
            runner.say(f"{len(plan.stages)} Spark stages, {len(cfg.variants)} variants x {len(cfg.seeds)} "
                       f"seeds; logs in {runner.logs.folder}")
            runner.spark(plan)
        if "train" in phases:
            unique, epochs = token_counts(cfg, run, plan)
            for v in cfg.variants:
                runner.say(f"{v}: {unique[v]} unique tokens, {epochs[v]:.2f} epochs at {cfg.train_tokens} tokens")
            for variant in variants or cfg.variants:
                train_and_eval(runner, cfg, plan, run, tasks, variant)
    finally:
        runner.close()
        folder = run / SECONDS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        name = "-".join([*phases, *(variants or [])])
        previous = json.loads((folder / f"{name}.json").read_text()) if (folder / f"{name}.json").exists() else {}
        (folder / f"{name}.json").write_text(json.dumps({**previous, **runner.seconds}, indent=1, sort_keys=True))


def recorded_seconds(run: Path) -> dict[str, float]:
    """Seconds of every stage, training and evaluation run so far (all phases, all variants)."""
    seconds = {}
    for path in sorted((run / SECONDS_DIR).glob("*.json")):
        seconds.update(json.loads(path.read_text()))
    return seconds

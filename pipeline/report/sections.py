"""The report's sections: each builder reads RunData and returns a Section (its template under
templates/sections/ and the data that template shows), or None when the run has nothing for it, so
a partial run still renders. No HTML here: the templates write it, escaped."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeline.chain import SOURCES
from pipeline.report import plots, scale
from pipeline.report.collect import KEPT, RunData
from pipeline.report.formats import human, num
from pipeline.report.summaries import summarize

EXAMPLES_PER_REASON = 2


@dataclass
class Section:
    anchor: str                  # id in the page, and templates/sections/<anchor>.html.j2
    title: str
    data: dict = field(default_factory=dict)
    template_file: str = ""      # default: templates/sections/<anchor>.html.j2

    @property
    def template(self) -> str:
        return self.template_file or f"sections/{self.anchor}.html.j2"


# --- facts shared by several sections ---------------------------------------------------------------

def source_flow(data: RunData) -> dict[str, list[tuple[str, int]]]:
    """Per source, the documents left after each step of the chain, from the stages' statistics."""
    flows: dict[str, list[tuple[str, int]]] = {}
    first = {"commoncrawl": "extract_commoncrawl", "webtext": "extract_webtext",
             "wikipedia": "ingest_wikipedia", "books": "ingest_books"}
    for source, task in first.items():
        stage = data.stage(task)
        if stage is None or not isinstance(stage.stats.get("funnel"), list) or not stage.stats["funnel"]:
            continue
        funnel = stage.stats["funnel"]
        steps = [("records", funnel[0]["in"])] + [(f"after {step['step']}", step["out"]) for step in funnel]
        flows[source] = [steps[0]] + [s for s, prev in zip(steps[1:], steps) if s[1] != prev[1] or s is steps[-1]]
    quality = data.stage("quality_filter")
    if "commoncrawl" in flows and quality and isinstance(quality.stats.get("documents_out"), int):
        flows["commoncrawl"].append(("after quality (pareto)", quality.stats["documents_out"]))
    dedup = data.stage("dedup")
    for source in flows:
        if dedup and source in (dedup.stats.get("output_docs") or {}):
            flows[source].append(("after dedup", dedup.stats["output_docs"][source]))
    decontam = data.stage("decontaminate")
    for source in flows:
        kept = ((decontam.stats.get("rows_by_reason") or {}).get(source) or {}).get(KEPT) if decontam else None
        if isinstance(kept, int):
            flows[source].append(("after decontamination", kept))
    for source in flows:
        tokenized = data.stage(f"tokenize_{source}")
        if tokenized and isinstance(tokenized.stats.get("documents_out"), int):
            flows[source].append(("tokenized", tokenized.stats["documents_out"]))
    return flows


def final_val_losses(data: RunData) -> dict[str, float]:
    losses: dict[str, float] = {}
    for record in data.metrics:
        if record.get("kind") == "val":
            losses.update({k[5:]: v for k, v in record.items() if k.startswith("loss/") and isinstance(v, float)})
    return losses


def trained_tokens(data: RunData) -> int | None:
    """Tokens the trainer consumed: its last step times the tokens of one step."""
    steps = [r["step"] for r in data.metrics if r.get("kind") == "train"]
    config = data.train_config or {}
    train, model = config.get("train") or {}, config.get("model") or {}
    if not steps or not model.get("block_size"):
        return None
    per_step = train.get("tokens_per_step") or train.get("batch_size", 0) * model["block_size"]
    return max(steps) * per_step if per_step else None


def headline(data: RunData) -> list[tuple[str, str]]:
    tiles = []
    flows = source_flow(data)
    if "commoncrawl" in flows:
        cc = flows["commoncrawl"]
        tiles.append(("CommonCrawl records → kept", f"{num(cc[0][1])} → {num(cc[-1][1])}"))
    tokens = sum(m["tokens"].get("train", 0) for m in data.token_manifests.values())
    if tokens:
        tiles.append((f"training tokens in {len(data.token_manifests)} sources", human(tokens)))
    classifier = data.classifier or {}
    auc = ((classifier.get("held_out") or {}).get("roc_auc") or {}).get("auc")
    if isinstance(auc, float):
        tiles.append(("classifier held-out ROC AUC", f"{auc:.3f}"))
    train = [r for r in data.metrics if r.get("kind") == "train" and isinstance(r.get("loss"), float)]
    if train:
        tiles.append((f"train loss at step {train[-1]['step']}", f"{train[-1]['loss']:.3f}"))
    seconds = sum(s.stats.get("seconds", 0) or 0 for s in data.stages)
    if data.stages:
        tiles.append((f"{len(data.stages)} stages, Spark time", f"{seconds / 60:.1f} min"))
    return tiles


# --- sections ------------------------------------------------------------------------------------

def overview(data: RunData) -> Section | None:
    flows = source_flow(data)
    if not flows:
        return None
    labels = ["after quality (pareto)", "after dedup", "after decontamination", "tokenized"]
    rows = []
    for source in SOURCES:
        if source in flows:
            counts = dict(flows[source])
            extracted = [n for label, n in flows[source] if label not in labels][-1]
            manifest = data.token_manifests.get(source) or {}
            rows.append([source, flows[source][0][1], extracted, *[counts.get(label, "") for label in labels],
                         human((manifest.get("tokens") or {}).get("train"))])
    funnel = plots.funnel(flows["commoncrawl"], "CommonCrawl through the chain") if "commoncrawl" in flows else None
    return Section("overview", "Overview", {"funnel": funnel, "rows": rows})


def stages(data: RunData) -> Section | None:
    if not data.stages:
        return None
    rows, bars = [], []
    for stage in data.stages:
        summary = summarize(stage.stats)
        share = (100 * summary.docs_out / summary.docs_in
                 if summary.docs_in and summary.docs_out is not None else None)
        rows.append({"stage": stage, "summary": summary, "share": share,
                     "reasons": sorted(((r, n) for r, n in summary.reasons.items() if n), key=lambda kv: -kv[1])})
        if summary.unit == "documents" and summary.docs_in and summary.docs_out is not None:
            bars.append((stage.task, summary.docs_in, summary.docs_out))
    return Section("stages", "Stages", {"rows": rows, "bars": plots.stage_bars(bars) if bars else None,
                                        "missing": data.missing})


def languages(data: RunData) -> Section | None:
    # A stage may count the languages of every document it identified, before the language filter
    # (`languages` in its statistics: {lang: documents}); the folders hold only what was kept.
    identified = {f"{s.task} (all identified)": Counter(s.stats["languages"]) for s in data.stages
                  if isinstance(s.stats.get("languages"), dict) and s.stats["languages"]}
    folders = {**identified, **data.languages}
    if not folders:
        return None
    dropped: Counter = Counter()
    for stage in data.stages:
        dropped.update({k: v for k, v in summarize(stage.stats).reasons.items() if k.startswith("langid:")})
    return Section("languages", "Language mix", {"figure": plots.language_mix(folders), "dropped": dict(dropped),
                                                 "identified_here": sorted(data.identified_here)})


def classifier(data: RunData) -> Section | None:
    report = data.classifier or {}
    held = report.get("held_out") or {}
    quality = data.stage("quality_filter")
    deciles = (quality.stats.get("scores") if quality else None) or None
    alpha = quality.stats.get("alpha") if quality else None
    if not held and not deciles:
        return None
    figure = plots.score_histograms((held.get("positives") or {}).get("histogram"),
                                    (held.get("negatives") or {}).get("histogram"), deciles, alpha)
    metrics = [[k, held.get(k)] for k in ("precision", "recall", "accuracy", "threshold") if k in held]
    metrics += [[k.replace("_", " "), v] for k, v in (report.get("counts") or {}).items()]
    metrics += [[f"held-out ROC AUC with {form} features", (v.get("held_out") or {}).get("auc")]
                for form, v in (report.get("compare_features") or {}).items()]
    alphas = sorted(((held.get("positives") or {}).get("keep_rate") or {}), key=float)
    keep_rates = [[f"α = {a}", *[((held.get(g) or {}).get("keep_rate") or {}).get(a) for g in ("positives", "negatives")]]
                  for a in alphas]
    return Section("classifier", "Quality classifier", {
        "figure": figure, "held": held, "auc": held.get("roc_auc") or {}, "features": report.get("features", ""),
        "metrics": metrics, "keep_rates": keep_rates, "alpha": alpha,
        "deciles": [[f"{d['score_from']:.1f} – {d['score_to']:.1f}", d["documents"], d["kept"], d["keep_rate"]]
                    for d in deciles or []]})


def dedup(data: RunData) -> Section | None:
    stage = data.stage("dedup") or next(iter(data.stages_of("dedup")), None)
    if stage is None:
        return None
    s = stage.stats
    histograms = {k: v for k, v in (s.get("cluster_sizes") or {}).items() if v}
    removed = s.get("removed") or {}
    reasons = sorted({r for counts in removed.values() for r in counts})
    priority = s.get("priority") or []
    order = [n for n in priority if n in removed] + sorted(set(removed) - set(priority))
    rows = [[source, (s.get("inputs") or {}).get(source, ""), *[removed[source].get(r, 0) for r in reasons],
             (s.get("output_docs") or {}).get(source, "")] for source in order]
    decontam = data.stage("decontaminate")
    return Section("dedup", "Deduplication and decontamination", {
        "figure": plots.cluster_sizes(histograms) if histograms else None, "rows": rows,
        "header": ["source", "in", *[r.replace("_", " ") for r in reasons], "out"],
        "lsh": s.get("lsh") or {}, "priority": priority,
        "evals": [[n, v.get("examples"), v.get("dirty"), v.get("clean"), v.get("clean_fraction")]
                  for n, v in (decontam.stats.get("eval_sets") or {}).items()] if decontam else None,
        "decontam_rows": [[src, {k: v for k, v in c.items() if k != KEPT}, c.get(KEPT, 0)]
                          for src, c in (decontam.stats.get("rows_by_reason") or {}).items()] if decontam else []})


def mixture(data: RunData) -> Section | None:
    manifest = data.mixture
    if manifest is None and not data.token_manifests:
        return None
    if manifest is None:
        rows = [[n, human(m["tokens"].get("train")), human(m["tokens"].get("validation")),
                 (m.get("documents") or {}).get("train")] for n, m in sorted(data.token_manifests.items())]
        return Section("mixture", "Training mixture", {"manifest": None, "rows": rows})
    from pipeline.tokens.mixture import GPT3_TABLE, resolve_table

    available = [{"name": s["name"], "tokens": s["tokens_available"], "weight": s["weight"]}
                 for s in manifest.get("sources", [])]
    trained = trained_tokens(data)
    budget = trained or manifest.get("rows", 0) * manifest.get("block_size", 0)
    resolved = resolve_table(available, budget) if available and budget else manifest["table"]
    paper = {r["name"]: r for r in GPT3_TABLE}
    rows = [[r["name"], human(r["tokens"]), f"{100 * r['weight']:.1f}%", human(r["drawn"]), r["epochs"],
             *([human(paper[r["name"]]["tokens"]), f"{100 * paper[r['name']]['weight']:.0f}%",
                paper[r["name"]]["paper_epochs"]] if r["name"] in paper else ["", "", ""])] for r in resolved]
    note = (f"the {human(trained)} tokens this run trained on" if trained else
            f"the {human(budget)} tokens exported by build_mixture")
    tokenizer = manifest.get("tokenizer") or {}
    return Section("mixture", "Training mixture (GPT-3 Table 2.2)", {
        "manifest": manifest, "rows": rows, "figure": plots.mixture_shares(resolved), "budget_note": note,
        "tokenizer_sha": str(tokenizer.get("sha256", ""))[:12], "vocab_size": tokenizer.get("vocab_size")})


def training(data: RunData) -> Section | None:
    train = {r["step"]: r["loss"] for r in data.metrics if r.get("kind") == "train" and isinstance(r.get("loss"), float)}
    val: dict[str, dict[int, float]] = {}
    for record in data.metrics:
        if record.get("kind") == "val":
            for key, value in record.items():
                if key.startswith("loss/") and isinstance(value, float):
                    val.setdefault(key[5:], {})[record["step"]] = value
    if not train and not val:
        return None
    last = next((r for r in reversed(data.metrics) if r.get("kind") == "train"), {})
    model = (data.train_config or {}).get("model") or {}
    facts = [["steps", max(train) if train else ""], ["final train loss", train[max(train)] if train else ""],
             *[[f"validation loss: {k}", v] for k, v in sorted(final_val_losses(data).items())],
             ["tokens / s", last.get("tokens_per_s")], ["tokens trained", human(trained_tokens(data))],
             ["model", ", ".join(f"{k}={model[k]}" for k in ("n_layer", "n_head", "n_embd", "block_size") if k in model)]]
    return Section("training", "Training", {"figure": plots.loss_curves(train, val), "facts": facts,
                                            "samples": data.samples.strip()})


def examples(data: RunData) -> Section | None:
    groups = []
    for stage in data.stages:
        found = stage.stats.get("examples")
        if isinstance(found, dict) and found:
            ordered = sorted(found.items(), key=lambda kv: (kv[0] != KEPT, kv[0]))
            groups.append({"stage": stage, "cards": [{"reason": reason, "kept": reason == KEPT, "doc": doc}
                                                      for reason, docs in ordered for doc in docs[:EXAMPLES_PER_REASON]]})
    if not groups and not data.dedup_pairs:
        return None
    return Section("examples", "Kept and dropped examples", {"groups": groups, "pairs": data.dedup_pairs})


def snapshot(data: RunData) -> Section | None:
    """The road to a snapshot: the benches' recorded per-core figures (RUN/scale) multiplied out."""
    rows = scale.projection(scale.read_figures(data.root / scale.SCALE_DIR))
    if not rows:
        return None
    for r in rows:
        low, mid, high = r["core_hours"]
        r["hours"] = f"{mid:,.0f}", (f"{low:,.0f}–{high:,.0f}" if low != high else "")
    bottleneck = max(rows, key=lambda r: r["share"])
    return Section("scale", "The road to a snapshot", {
        "rows": rows, "total": sum(r["core_hours"][1] for r in rows), "bottleneck": bottleneck,
        "notes": [(r["stage"], note) for r in rows for note in r["notes"]]})


BUILDERS = (overview, stages, languages, classifier, dedup, mixture, training, examples, snapshot)

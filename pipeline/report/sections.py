"""The report's sections, each built from RunData; a builder returns None when the run has nothing
for it, so a partial run still renders."""
from __future__ import annotations

from collections import Counter

from pipeline.chain import SOURCES
from pipeline.report import plots
from pipeline.report.collect import KEPT, RunData, Stage, flow
from pipeline.report.render import chips, e, figure, human, num, section, table

EXAMPLES_PER_REASON = 2


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

def overview(data: RunData):
    flows = source_flow(data)
    if not flows:
        return None
    body = ""
    if "commoncrawl" in flows:
        body += figure(plots.funnel(flows["commoncrawl"], "CommonCrawl through the chain"), "CommonCrawl funnel")
    labels = ["after quality (pareto)", "after dedup", "after decontamination", "tokenized"]
    rows = []
    for source in SOURCES:
        if source in flows:
            counts = dict(flows[source])
            extracted = [n for label, n in flows[source] if label not in labels][-1]
            manifest = data.token_manifests.get(source) or {}
            rows.append([e(source), flows[source][0][1], extracted, *[counts.get(l, "") for l in labels],
                         human((manifest.get("tokens") or {}).get("train"))])
    body += table(["source", "records", "extracted", "after quality", "after dedup", "after decontamination",
                   "tokenized", "train tokens"], rows)
    return section("overview", "Overview", "Documents of each source left after every step of the chain, from "
                   "raw records to the tokenized corpus.", body)


def stages(data: RunData):
    if not data.stages:
        return None
    rows, bars = [], []
    for stage in data.stages:
        f = flow(stage.stats)
        share = (f'<span class="bar" style="width:{min(60, max(2, round(60 * f.docs_out / f.docs_in)))}px"></span> '
                 f'{100 * f.docs_out / f.docs_in:.0f}%') if f.docs_in and f.docs_out is not None else ""
        state = "" if stage.complete else ' <span class="chip bad">incomplete</span>'
        rows.append([f"<b>{e(stage.task)}</b>{state}<div class='small muted'>{e(stage.path)}</div>",
                     f"{num(f.docs_in)} <span class='muted small'>{e(f.unit) if f.docs_in is not None else ''}</span>",
                     f"{num(f.docs_out)}", share, chips(f.reasons) or '<span class="muted">none</span>',
                     facts(stage), num(stage.stats.get("seconds"))])
        if f.unit == "documents" and f.docs_in and f.docs_out is not None:
            bars.append((stage.task, f.docs_in, f.docs_out))
    body = figure(plots.stage_bars(bars), "documents per stage") if bars else ""
    body += table(["stage", "in", "out", "kept", "drop reasons", "facts", "seconds"], rows)
    if data.missing:
        body += f'<p class="muted small">Not run (yet): {e(", ".join(data.missing))}</p>'
    return section("stages", "Stages", "Every stage's input and output counts and each reason a record was "
                   "dropped (<code>step:reason</code>), counted from the data.", body)


def facts(stage: Stage) -> str:
    """A stage's headline beyond in/out, in a few words."""
    s, job = stage.stats, stage.job
    if job == "reddit_links":
        return f"{num(s.get('urls_out'))} URLs; {num(s.get('duplicate_submissions_merged'))} duplicate submissions merged"
    if job == "cc_index":
        return f"{num(s.get('files'))} files; status {chips(s.get('records_by_status') or {}, 'ok')}"
    if job == "fetch_pages":
        return f"via {e(s.get('via'))}; {num(s.get('warc_files'))} WARC files"
    if job == "classifier":
        auc = s.get("held_out_roc_auc") or {}
        return f"{e(s.get('features'))} features; ROC AUC {num(auc.get('auc'))} [{num(auc.get('low'))}, {num(auc.get('high'))}]"
    if job == "quality_filter":
        files = s.get("files") or {}
        if "alpha" in s:
            return f"alpha {num(s['alpha'])}, seed {num(s.get('seed'))}"
        return f"{num(files.get('files'))} WARC files, {num(files.get('records'))} records"
    if job == "ingest":
        return f"{e(s.get('kind'))}; {human(s.get('chars_out'))} characters"
    if job == "dedup":
        return f"removed {num(s.get('removed_total'))}; LSH {e((s.get('lsh') or {}).get('preset'))}"
    if job == "decontaminate":
        return f"mode {e(s.get('mode'))}; {num(s.get('eval_ngrams'))} eval n-grams"
    if job == "tokenizer":
        return f"vocab {num(s.get('vocab_size'))}; {e(s.get('mode'))}"
    if job == "tokenize_corpus":
        return f"{human((s.get('tokens') or {}).get('train'))} train / {human((s.get('tokens') or {}).get('validation'))} validation tokens"
    if job == "build_mixture":
        return f"{human(s.get('tokens'))} tokens in {num(s.get('shards'))} shards"
    return ""


def languages(data: RunData):
    # A stage may count the languages of every document it identified, before the language filter
    # (`languages` in its statistics: {lang: documents}); the folders hold only what was kept.
    identified = {f"{s.task} (all identified)": Counter(s.stats["languages"]) for s in data.stages
                  if isinstance(s.stats.get("languages"), dict) and s.stats["languages"]}
    folders = {**identified, **data.languages}
    if not folders:
        return None
    body = figure(plots.language_mix(folders), "language mix")
    dropped: Counter = Counter()
    for stage in data.stages:
        dropped.update({k: v for k, v in flow(stage.stats).reasons.items() if k.startswith("langid:")})
    if dropped:
        body += f"<p>Dropped by language identification before these folders: {chips(dict(dropped))}</p>"
    return section("languages", "Language mix", "fastText lid.176 language of the documents kept in each "
                   "folder (the raw CommonCrawl extraction and the curated sources).", body)


def classifier(data: RunData):
    report = data.classifier or {}
    held = report.get("held_out") or {}
    quality = data.stage("quality_filter")
    deciles = (quality.stats.get("scores") if quality else None) or None
    alpha = quality.stats.get("alpha") if quality else None
    if not held and not deciles:
        return None
    body = figure(plots.score_histograms((held.get("positives") or {}).get("histogram"),
                                         (held.get("negatives") or {}).get("histogram"), deciles, alpha),
                  "classifier score histograms")
    auc = held.get("roc_auc") or {}
    metrics = [["ROC AUC (held out)", f"{num(auc.get('auc'))} <span class='muted'>[{num(auc.get('low'))}, "
                                      f"{num(auc.get('high'))}] 95% bootstrap, n={num(auc.get('n'))}</span>"]]
    metrics += [[k, num(held.get(k))] for k in ("precision", "recall", "accuracy", "threshold") if k in held]
    metrics += [[f"{k.replace('_', ' ')}", num(v)] for k, v in (report.get("counts") or {}).items()]
    metrics += [[f"ROC AUC with {form} features", num(v.get("auc"))]
                for form, v in (report.get("compare_features") or {}).items()]
    parts = [f"<div><h3>Held-out metrics ({e(report.get('features', ''))} features)</h3>"
             f"{table(['metric', 'value'], metrics)}</div>"] if held else []
    alphas = sorted(((held.get("positives") or {}).get("keep_rate") or {}), key=float)
    if alphas:
        rows = [[f"α = {a}", *[num(((held.get(g) or {}).get("keep_rate") or {}).get(a))
                               for g in ("positives", "negatives")]] for a in alphas]
        parts.append("<div><h3>Expected keep rate by α</h3>"
                     f"{table(['pareto α', 'positives', 'negatives'], rows)}</div>")
    if deciles:
        rows = [[f"{d['score_from']:.1f} – {d['score_to']:.1f}", d["documents"], d["kept"],
                 num(d["keep_rate"])] for d in deciles]
        parts.append(f"<div><h3>CommonCrawl by score (α = {num(alpha)})</h3>"
                     f"{table(['score', 'documents', 'kept', 'keep rate'], rows)}</div>")
    body += f"<div class='grid2'>{''.join(parts)}</div>"
    return section("classifier", "Quality classifier", "GPT-3 Appendix A: a logistic regression scores each "
                   "CommonCrawl document, which is kept iff <code>np.random.pareto(α) &gt; 1 − score</code>, "
                   "i.e. with probability (2 − s)<sup>−α</sup>.", body)


def dedup(data: RunData):
    stage = data.stage("dedup") or next(iter(data.stages_of("dedup")), None)
    if stage is None:
        return None
    s = stage.stats
    body = ""
    histograms = {k: v for k, v in (s.get("cluster_sizes") or {}).items() if v}
    if histograms:
        body += figure(plots.cluster_sizes(histograms), "duplicate cluster sizes")
    removed = s.get("removed") or {}
    reasons = sorted({r for counts in removed.values() for r in counts})
    order = [n for n in s.get("priority") or [] if n in removed] + sorted(set(removed) - set(s.get("priority") or []))
    rows = [[e(source), (s.get("inputs") or {}).get(source, ""), *[removed[source].get(r, 0) for r in reasons],
             (s.get("output_docs") or {}).get(source, "")] for source in order]
    if rows:
        body += table(["source", "in", *[r.replace("_", " ") for r in reasons], "out"], rows)
    lsh = s.get("lsh") or {}
    if lsh:
        body += (f"<p class='small muted'>LSH preset <b>{e(lsh.get('preset'))}</b>: {e(lsh.get('features'))}"
                 f"{' ' + str(lsh.get('ngram')) + '-grams' if lsh.get('features') == 'words' else ''}, "
                 f"{num(lsh.get('bands'))} bands × {num(lsh.get('rows'))} rows, verify {e(lsh.get('verify'))}"
                 f" ≥ {num(lsh.get('threshold'))}; P(candidate | Jaccard s): "
                 + ", ".join(f"{k}: {num(v)}" for k, v in (lsh.get("s_curve") or {}).items()) + "</p>")
    decontam = data.stage("decontaminate")
    if decontam:
        evals = decontam.stats.get("eval_sets") or {}
        body += "<h3>Decontamination against evaluation sets</h3>" + table(
            ["eval set", "examples", "dirty", "clean", "clean fraction"],
            [[e(n), v.get("examples"), v.get("dirty"), v.get("clean"), num(v.get("clean_fraction"))]
             for n, v in evals.items()])
        rows = [[e(src), chips({k: v for k, v in c.items() if k != KEPT}) or "none", c.get(KEPT, 0)]
                for src, c in (decontam.stats.get("rows_by_reason") or {}).items()]
        body += table(["source", "rows dropped", "rows kept"], rows)
    return section("dedup", "Deduplication and decontamination", "MinHash LSH within each source, then "
                   f"across sources in priority order ({e(' > '.join(s.get('priority') or []))}); then the "
                   "13-gram overlap with the evaluation sets (GPT-3 Appendix C).", body)


def mixture(data: RunData):
    manifest = data.mixture
    if manifest is None and not data.token_manifests:
        return None
    if manifest is None:
        rows = [[e(n), human(m["tokens"].get("train")), human(m["tokens"].get("validation")),
                 num((m.get("documents") or {}).get("train"))] for n, m in sorted(data.token_manifests.items())]
        return section("mixture", "Training mixture", "Tokens per source (no build_mixture output in this run).",
                       table(["source", "train tokens", "validation tokens", "documents"], rows))
    from pipeline.tokens.mixture import GPT3_TABLE, resolve_table

    available = [{"name": s["name"], "tokens": s["tokens_available"], "weight": s["weight"]}
                 for s in manifest.get("sources", [])]
    trained = trained_tokens(data)
    budget = trained or manifest.get("rows", 0) * manifest.get("block_size", 0)
    resolved = resolve_table(available, budget) if available and budget else manifest["table"]
    paper = {r["name"]: r for r in GPT3_TABLE}
    rows = [[f"<b>{e(r['name'])}</b>", human(r["tokens"]), f"{100 * r['weight']:.1f}%", human(r["drawn"]),
             num(r["epochs"]), human(paper[r["name"]]["tokens"]) if r["name"] in paper else "",
             f"{100 * paper[r['name']]['weight']:.0f}%" if r["name"] in paper else "",
             num(paper[r["name"]]["paper_epochs"]) if r["name"] in paper else ""] for r in resolved]
    budget_note = (f"the {human(trained)} tokens this run trained on" if trained else
                   f"the {human(budget)} tokens exported by build_mixture")
    body = table(["dataset", "tokens", "weight in mix", "tokens drawn", "epochs", "GPT-3 tokens", "GPT-3 weight",
                  "GPT-3 epochs"], rows)
    body += figure(plots.mixture_shares(resolved), "mixture shares")
    body += (f"<p class='small muted'>build_mixture export: {num(manifest.get('rows'))} rows of "
             f"{num(manifest.get('row_tokens'))} tokens, seed {num(manifest.get('seed'))}, tokenizer "
             f"{e(str((manifest.get('tokenizer') or {}).get('sha256', ''))[:12])} "
             f"(vocab {num((manifest.get('tokenizer') or {}).get('vocab_size'))}).</p>")
    return section("mixture", "Training mixture (GPT-3 Table 2.2)", "Tokens per dataset, its weight in the "
                   f"training mix, and the epochs each is seen for {budget_note}, beside GPT-3's own table "
                   "(300B tokens).", body)


def training(data: RunData):
    train = {r["step"]: r["loss"] for r in data.metrics if r.get("kind") == "train" and isinstance(r.get("loss"), float)}
    val: dict[str, dict[int, float]] = {}
    for record in data.metrics:
        if record.get("kind") == "val":
            for key, value in record.items():
                if key.startswith("loss/") and isinstance(value, float):
                    val.setdefault(key[5:], {})[record["step"]] = value
    if not train and not val:
        return None
    body = figure(plots.loss_curves(train, val), "loss curves")
    last = next((r for r in reversed(data.metrics) if r.get("kind") == "train"), {})
    model = (data.train_config or {}).get("model") or {}
    facts = [["steps", max(train) if train else ""], ["final train loss", num(train[max(train)]) if train else ""],
             *[[f"validation loss: {k}", num(v)] for k, v in sorted(final_val_losses(data).items())],
             ["tokens / s", num(last.get("tokens_per_s"))], ["tokens trained", human(trained_tokens(data))],
             ["model", e(", ".join(f"{k}={model[k]}" for k in ("n_layer", "n_head", "n_embd", "block_size")
                                   if k in model))]]
    body += table(["", ""], facts)
    if data.samples.strip():
        body += f"<h3>Samples from the model</h3><pre class='samples'>{e(data.samples)}</pre>"
    return section("training", "Training", "The trainer's metrics (train/metrics.jsonl): training loss and the "
                   "held-out loss of each source.", body)


def examples(data: RunData):
    parts = []
    for stage in data.stages:
        found = stage.stats.get("examples")
        if not isinstance(found, dict) or not found:
            continue
        ordered = sorted(found.items(), key=lambda kv: (kv[0] != KEPT, kv[0]))
        cards = ""
        for reason, docs in ordered:
            for doc in docs[:EXAMPLES_PER_REASON]:
                kind = "kept" if reason == KEPT else "dropped"
                cards += (f"<div class='card {kind}'><span class='chip {'ok' if kind == 'kept' else ''}'>"
                          f"{e(reason)}</span><div class='url'>{e(doc.get('url') or doc.get('id') or '')}</div>"
                          f"<pre>{e(doc.get('text') or '')}</pre></div>")
        parts.append(f"<h3>{e(stage.task)} <span class='muted small'>{e(stage.path)}</span></h3>"
                     f"<div class='cards'>{cards}</div>")
    if data.dedup_pairs:
        cards = ""
        for pair in data.dedup_pairs:
            for role, doc in (("removed", pair["removed"]), ("survivor", pair["survivor"])):
                cards += (f"<div class='card {'dropped' if role == 'removed' else 'kept'}'><span class='chip "
                          f"{'' if role == 'removed' else 'ok'}'>{e(pair['reason'])}: {role}</span> "
                          f"<span class='muted small'>{e(doc.get('source'))}, cluster of "
                          f"{num(pair['cluster_size'])}</span><div class='url'>{e(doc.get('url') or doc.get('id'))}"
                          f"</div><pre>{e(doc.get('text') or '')}</pre></div>")
        parts.append("<h3>dedup <span class='muted small'>a removed duplicate beside the document that "
                     f"survived it</span></h3><div class='cards pairs'>{cards}</div>")
    if not parts:
        return None
    return section("examples", "Kept and dropped examples", "A few documents per outcome of each stage that "
                   "records examples, chosen by id hash (the same every run); text cut to its first characters.",
                   "".join(parts))


BUILDERS = (overview, stages, languages, classifier, dedup, mixture, training, examples)

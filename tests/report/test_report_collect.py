"""collect() reads each stage's files as the stages write them; summarize() gives every stage's in /
out and drop reasons (the typed summary of its job); render() makes one self-contained page with
every section and figure, from the Jinja2 templates."""
from __future__ import annotations

import json
import re

import pytest

from pipeline.report.cli import main as report_main
from pipeline.report.collect import collect, read_metrics
from pipeline.report.render import render
from pipeline.report.sections import source_flow, trained_tokens
from pipeline.report.summaries import summarize as flow
from report_run import write_run

SECTIONS = ("overview", "stages", "languages", "classifier", "dedup", "mixture", "training", "examples")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return write_run(tmp_path_factory.mktemp("run") / "run")


@pytest.fixture(scope="module")
def data(run):
    return collect(run)


def test_stages_come_in_chain_order_with_task_ids(data):
    tasks = [s.task for s in data.stages]
    assert tasks[:5] == ["reddit_links", "cc_index", "fetch_pages", "extract_webtext", "extract_commoncrawl"]
    assert tasks[-1] == "build_mixture" and "tokenize_books" in tasks
    assert data.stage("extract_commoncrawl").path == "docs/cc_raw"
    assert data.stage("quality_filter").path == "docs/commoncrawl"
    assert all(s.complete for s in data.stages)
    assert data.missing == ["report"] or data.missing == []


def test_stage_outside_the_chain_is_listed_too(tmp_path):
    run = write_run(tmp_path / "run", train=False)
    extra = run / "extra" / "cc_de"
    extra.mkdir(parents=True)
    (extra / "_stats.json").write_text(json.dumps({"job": "quality_filter", "documents_in": 5, "documents_out": 1}))
    data = collect(run)
    assert data.stages[-1].task == "quality_filter" and data.stages[-1].path == "extra/cc_de"
    assert not data.stages[-1].complete
    assert data.metrics == [] and data.train_config is None


def test_flow_of_each_job_layout(data):
    reddit = flow(data.stage("reddit_links").stats)
    assert (reddit.unit, reddit.docs_in, reddit.docs_out) == ("submissions", 157, 115)
    assert reddit.reasons == {"links:low_score": 12, "links:over_18": 6, "links:self_post": 24}
    cc = flow(data.stage("extract_commoncrawl").stats)
    assert (cc.docs_in, cc.docs_out) == (120, 80)
    assert "kept" not in cc.reasons and cc.reasons["langid:language"] == 20
    assert sum(cc.reasons.values()) == cc.docs_in - cc.docs_out
    fetch = flow(data.stage("fetch_pages").stats)
    assert (fetch.unit, fetch.docs_in, fetch.docs_out) == ("URLs", 105, 80)
    decontam = flow(data.stage("decontaminate").stats)
    # 122 rows: 1 webtext document split into 2 kept pieces, so 120 documents in and 120 rows out
    assert (decontam.docs_in, decontam.docs_out) == (120, 120)
    assert decontam.reasons == {"decontam:contaminated": 1, "decontam:split": 1}
    classifier = flow(data.stage("train_classifier").stats)
    assert (classifier.docs_in, classifier.docs_out) == (186, 160)
    assert flow(data.stage("build_mixture").stats).docs_out == 1000


def test_classifier_report_mixture_tokens_and_languages(data):
    assert data.classifier["held_out"]["roc_auc"]["auc"] == 0.95
    assert [r["name"] for r in data.mixture["table"]] == ["commoncrawl", "webtext2", "books1", "wikipedia"]
    assert set(data.token_manifests) == {"wikipedia", "books", "webtext", "commoncrawl"}
    assert data.languages["docs/cc_raw"] == {"en": 70, "de": 6, "fr": 4}
    assert set(data.languages) == {"docs/cc_raw", "curated/wikipedia", "curated/books", "curated/webtext",
                                   "curated/commoncrawl"}


def test_dedup_pairs_show_the_removed_document_beside_its_survivor(data):
    [pair] = data.dedup_pairs
    assert pair["reason"] == "near_cross" and pair["cluster_size"] == 2
    assert pair["removed"]["text"] == "Removed near-duplicate text." and pair["removed"]["source"] == "commoncrawl"
    assert pair["survivor"]["text"] == "Survivor text of a near duplicate." and pair["survivor"]["source"] == "webtext"


def test_metrics_keep_the_latest_record_of_a_step(run, data):
    train = {r["step"]: r["loss"] for r in data.metrics if r["kind"] == "train"}
    assert train[20] == 3.9 and len(train) == 10
    assert read_metrics(run / "absent.jsonl") == []
    assert trained_tokens(data) == 20 * 8 * 64


def test_source_flow_follows_each_source_through_the_chain(data):
    flows = source_flow(data)
    cc = dict(flows["commoncrawl"])
    assert flows["commoncrawl"][0] == ("records", 120)
    assert cc["after quality (pareto)"] == 30 and cc["after dedup"] == 22
    assert cc["after decontamination"] == 21 and cc["tokenized"] == 21
    assert dict(flows["webtext"])["after dedup"] == 62


def test_render_has_every_section_and_figure(data):
    page = render(data)
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in page, anchor
        assert f'href="#{anchor}"' in page
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', page)
    assert set(images) == {"CommonCrawl funnel", "documents per stage", "language mix",
                           "classifier score histograms", "duplicate cluster sizes", "mixture shares", "loss curves"}
    assert "data-images" in page and "http://" not in page.replace("http://a.example/1", "").replace(
        "http://b.example/2", "").replace("http://c.example/", "")
    # text from the run is escaped, never markup
    assert "The &lt;b&gt;first&lt;/b&gt; sample." in page
    assert "Ein deutscher Text &lt;script&gt;." in page
    assert "Removed near-duplicate text." in page and "Survivor text of a near duplicate." in page
    # every drop reason of every stage is on the page
    for stage in data.stages:
        for reason, n in flow(stage.stats).reasons.items():
            if n:
                assert f"{reason} <b>{n:,}</b>" in page, reason
    # a compared feature form shows its held-out AUC
    assert re.search(r"held-out ROC AUC with idf features</t[dh]>\s*<td[^>]*>0\.875", page)
    # GPT-3 Table 2.2 beside this run's: commoncrawl 410B tokens, 60%, 0.44 epochs
    assert "410B" in page and "0.44" in page


def test_partial_run_renders_the_sections_it_has(tmp_path):
    run = tmp_path / "partial"
    (run / "webtext" / "urls").mkdir(parents=True)
    (run / "webtext" / "urls" / "_stats.json").write_text(json.dumps({
        "job": "reddit_links", "urls_out": 3, "seconds": 1.0, "drop_reasons": {"links:low_score": 2},
        "funnel": [{"step": "read", "in": 5, "out": 5, "dropped": {}},
                   {"step": "links", "in": 5, "out": 3, "dropped": {"low_score": 2}}]}))
    page = render(collect(run))
    assert '<section id="stages">' in page and '<section id="training">' not in page
    assert "Not run (yet)" in page and "extract_commoncrawl" in page


def test_cli_writes_the_page(tmp_path, capsys):
    run = write_run(tmp_path / "run", train=False)
    assert report_main([str(run), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    assert report_main([str(tmp_path / "absent")]) == 2
    assert "run directory not found" in capsys.readouterr().out


def test_language_mix_uses_a_stage_count_of_every_identified_document(tmp_path):
    from pipeline.report.sections import languages

    run = tmp_path / "run"
    (run / "docs" / "cc_raw").mkdir(parents=True)
    (run / "docs" / "cc_raw" / "_stats.json").write_text(json.dumps({
        "job": "quality_filter", "documents_in": 10, "documents_out": 6, "languages": {"en": 6, "de": 4}}))
    data = collect(run)
    assert data.languages == {}          # no committed Parquet folder
    section = languages(data)
    assert section.anchor == "languages" and section.data["figure"].startswith("data:image/png;base64,")


def test_language_mix_identifies_a_folder_without_languages(tmp_path):
    """Curated sources are not language-identified by their stages: the report identifies them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "run" / "curated" / "books"
    folder.mkdir(parents=True)
    (folder / "_SUCCESS").touch()
    texts = ["The old ferry crossed the river every morning, carrying farmers and their goods to the market."] * 3 + \
        ["Die alte Fähre überquerte jeden Morgen den Fluss und brachte die Bauern zum Markt."]
    pq.write_table(pa.table({"id": [str(i) for i in range(4)], "lang": pa.array([None] * 4, pa.string()),
                             "text": texts}), folder / "part-0.parquet")
    data = collect(tmp_path / "run")
    assert data.languages == {"curated/books": {"en": 3, "de": 1}}
    assert data.identified_here == ["curated/books"]
    assert "Identified for this report" in render(data)

"""The labels mean what they say: run the project's extractor, language ID and heuristic rules
(pipeline/text) over the sample crawl and compare with each page's expected fate."""
import json
from collections import Counter, defaultdict

from warcio.archiveiterator import ArchiveIterator

from pipeline.core.config import load_config


def _fates(sample_dir):
    from pipeline.text import langid
    from pipeline.text.extract import extract_page
    from pipeline.steps import run_steps

    config = load_config()
    wanted = frozenset(config["langid"]["languages"])
    labels = {}
    for line in (sample_dir / "crawl" / "labels.jsonl").read_text().splitlines():
        row = json.loads(line)
        labels[row["record_id"]] = row
    fates = defaultdict(Counter)
    for path in sorted((sample_dir / "crawl").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response":
                    continue
                label = labels[record.rec_headers.get_header("WARC-Record-ID")]
                content_type = record.http_headers.get_header("Content-Type") or ""
                if record.http_headers.get_statuscode() != "200":
                    fate = "http_status"
                elif "html" not in content_type:
                    fate = "not_html"
                else:
                    charset = content_type.split("charset=")[-1] if "charset=" in content_type else None
                    text, reason = extract_page(record.content_stream().read(), label["url"], declared_charset=charset)
                    if text is None:
                        fate = "extract"
                    else:
                        langs, scores = langid.predict([text], config["langid"])
                        if langid.drop_reason(langs[0], scores[0], wanted, config["langid"]["min_score"]):
                            fate = "langid"
                        else:
                            heuristics = run_steps([text], config, ("c4_lines", "gopher_quality", "gopher_repetition"),
                                                   langs=langs)
                            fate = "passed" if heuristics.kept[0] else "heuristics"
                fates[label["kind"]][fate] += 1
    return fates


def test_pages_meet_their_expected_fate(sample_dir):
    fates = _fates(sample_dir)
    rate = lambda kind, fate: fates[kind][fate] / sum(fates[kind].values())
    for kind in ("article", "exact_duplicate", "recapture", "near_duplicate"):
        assert rate(kind, "passed") >= 0.9, (kind, fates[kind])
    for kind in ("seo_spam", "clickbait"):          # pass the rules: the classifier must drop them
        assert rate(kind, "passed") >= 0.8, (kind, fates[kind])
    for kind in ("comments", "link_farm", "keyword_spam", "boilerplate", "cookie_wall", "nav_list"):
        assert rate(kind, "passed") <= 0.1, (kind, fates[kind])
    assert rate("foreign", "langid") >= 0.9
    assert rate("non_html", "not_html") == 1.0 and rate("http_error", "http_status") == 1.0

"""The recall rules of the webmix extractor (issue 19), each on a small hand-written page: an
article interrupted by a list, a table or an ad block keeps both halves; the headline and byline
stay; comment sections follow `keep_comments`; pages whose prose resiliparse's main-content rules
remove, or that an unclosed <title> swallows, still come out; a named anchor is not link text."""
from __future__ import annotations

import pytest

from pipeline.text.boilerplate import label_blocks, split_blocks
from pipeline.text.extract import ExtractCaps, extract_page, extract_text

FIRST = [
    "The river authority published its annual report on Monday, and the numbers show that water "
    "quality improved in most of the catchment for the third year running.",
    "Nitrate levels fell by a fifth at the monitoring stations below the two largest towns, which "
    "the authority credits to the new treatment works that opened in the spring.",
]
SECOND = [
    "Fish counts tell a similar story. Volunteers recorded salmon at four weirs where none had been "
    "seen for a decade, and trout numbers rose in every tributary that was surveyed.",
    "The authority warned that dry summers remain the largest risk, because low flows concentrate "
    "whatever pollution still reaches the river from farms and storm overflows.",
]
URL = "https://example.org/river"


def paragraphs(texts: list[str]) -> str:
    return "".join(f"<p>{t}</p>" for t in texts)


def page(article: str, before: str = "", after: str = "", title: str = "<title>River report</title>") -> bytes:
    return (f"<!doctype html><html><head>{title}</head><body>{before}<div class='story'>{article}</div>"
            f"{after}</body></html>").encode()


def assert_both_halves(text: str) -> None:
    for paragraph in FIRST + SECOND:
        assert paragraph in text, paragraph[:40]


@pytest.mark.parametrize("interruption", [
    "<ul>" + "".join(f"<li>Station {i}: nitrate down {10 + i} percent</li>" for i in range(14)) + "</ul>",
    "<table>" + "".join(f"<tr><td>Station {i}</td><td>{10 + i} %</td></tr>" for i in range(14)) + "</table>",
    "<div class='ad'><h3>Advertisement</h3><div><a href='/shop'>Buy garden hoses</a></div>"
    "<div><a href='/deals'>Deals of the week</a></div></div><div><a href='/read'>Read more: river news</a></div>"
    "<figure><img src='x.jpg'><figcaption>The weir at Millbrook</figcaption></figure>",
], ids=["list", "table", "ad-block-and-figure"])
def test_an_interrupted_article_keeps_its_continuation(interruption):
    # The continuation is short (under 15 % of the first part: not kept as a neighbouring run of
    # its own), and the interruption weighs 3.5-4 blocks of boilerplate, under the gap of 5.
    text = extract_text(page(paragraphs(FIRST * 4) + interruption + paragraphs(SECOND[:1])), URL)
    assert FIRST[0] in text and SECOND[0] in text
    assert "Buy garden hoses" not in text and "The weir at Millbrook" not in text


def test_a_long_widget_column_between_two_prose_runs_still_splits_them():
    widgets = "".join(f"<div><a href='/w{i}'>Widget link number {i}</a></div>" for i in range(8))
    sidebar = "<p>" + SECOND[0] + "</p>"
    article = paragraphs(FIRST * 4)   # (the sidebar's prose is under 15 % of it: not a neighbour run)
    text = extract_text(page(article, after=widgets + sidebar), URL)
    assert FIRST[1] in text and SECOND[0] not in text   # eight link blocks: another column


def test_headline_and_byline_before_the_article_stay():
    head = "<h1>River cleaner for a third year</h1><p>By Ann Weir</p><p>3 March 2025</p>"
    text = extract_text(page(head + paragraphs(FIRST + SECOND)), URL)
    assert text.startswith("River cleaner for a third year\n\nBy Ann Weir\n\n3 March 2025\n\n" + FIRST[0])


def test_navigation_before_the_headline_stays_out():
    nav = "<div>" + " | ".join(f"<a href='/{w}'>{w}</a>" for w in ["Home", "News", "Sport", "Weather"]) + "</div>"
    text = extract_text(page("<h1>River cleaner</h1>" + paragraphs(FIRST + SECOND), before=nav), URL)
    assert text.startswith("River cleaner") and "Weather" not in text


COMMENTS = ("<div class='comments'><h3>3 comments</h3>"
            "<div class='comment'><p>Great to hear about the salmon, I saw two at the old mill weir last "
            "autumn and could hardly believe my eyes after all these years.</p></div>"
            "<div class='comment'><p>The storm overflows are still a scandal and the report is far too kind "
            "to the water company, which has missed every target it set itself.</p></div></div>")


@pytest.mark.parametrize("keep", [False, True])
def test_comment_sections_follow_their_flag(keep):
    html = page(paragraphs(FIRST + SECOND), after=COMMENTS)
    text, reason = extract_page(html, URL, ExtractCaps(keep_comments=keep))
    assert reason is None
    assert_both_halves(text)
    assert ("I saw two at the old mill weir" in text) is keep
    assert ("still a scandal" in text) is keep


def test_keep_comments_is_read_from_the_config():
    section = dict(max_html_bytes=10, max_nesting_depth=10, max_seconds=1.0, mode="webmix")
    assert ExtractCaps.from_config(section).keep_comments is False
    assert ExtractCaps.from_config(dict(section, keep_comments=True)).keep_comments is True


def test_a_forum_thread_whose_posts_are_all_comments_is_kept():
    posts = "".join(f"<div class='comment'><p>{t}</p></div>" for t in FIRST + SECOND)
    text = extract_text(f"<html><body><h1>Is the river cleaner?</h1>{posts}</body></html>".encode(), URL)
    assert_both_halves(text)


def test_a_body_that_resiliparse_main_content_removes_whole_is_decided_on_every_block():
    html = f"<html><body><div class='sidebar'>{paragraphs(FIRST + SECOND)}</div></body></html>"
    assert_both_halves(extract_text(html.encode(), URL))


def test_an_unclosed_title_does_not_swallow_the_page():
    html = page(paragraphs(FIRST + SECOND), title="<title>River report - Ne(OAS_version >= 11)")
    assert_both_halves(extract_text(html, URL))


def test_a_named_anchor_is_not_link_text():
    blocks = split_blocks('<h3><a href="">Rights of trappers</a></h3>\n<p><a href="/x">Home</a></p>')
    label_blocks(blocks, __import__("pipeline.text.boilerplate", fromlist=["x"]).BoilerplateParams())
    assert [(b.text, b.link_chars, b.label) for b in blocks] == [
        ("Rights of trappers", 0, "head"), ("Home", 4, "bad")]

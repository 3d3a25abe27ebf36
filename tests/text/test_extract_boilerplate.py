"""The webmix extractor on small hand-written pages: the article stays, each kind of boilerplate
goes (navigation, related-article lists, footers, cookie notices, comment widgets), with and
without the class/id hints real sites usually give."""
from __future__ import annotations

import pytest

from pipeline.text.boilerplate import BoilerplateParams, label_blocks, main_text, split_blocks
from pipeline.text.extract import extract_text

PARAGRAPHS = [
    "The city council approved the new budget on Tuesday evening after a debate that lasted more "
    "than four hours, with most of the discussion centred on school funding.",
    "Councillors agreed to spend an extra two million on road repairs next year, although several "
    "members warned that the money would not cover the backlog of damaged streets.",
    "The mayor said the plan was a compromise. \"Nobody got everything they wanted, but the city "
    "will be in better shape a year from now,\" she told reporters after the vote.",
    "A second vote on the library extension was postponed until January, when the council expects "
    "to receive the final cost estimates from the architects.",
]
ARTICLE = "<h1>Council approves budget</h1>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)


def page(before: str = "", after: str = "", article: str = ARTICLE) -> bytes:
    return (f"<!doctype html><html><head><title>News</title></head><body>{before}"
            f"<div>{article}</div>{after}</body></html>").encode()


def assert_article_only(text: str, *boilerplate: str) -> None:
    for paragraph in PARAGRAPHS:
        assert paragraph in text
    for phrase in boilerplate:
        assert phrase not in text, phrase


def test_plain_article_is_kept_whole_with_its_headline():
    text = extract_text(page(), "https://example.org/a")
    assert_article_only(text)
    assert text.startswith("Council approves budget\n\n" + PARAGRAPHS[0])   # the gold sets keep headlines


NAV_LINKS = "".join(f'<a href="/{w.lower()}">{w}</a> | ' for w in
                    ["Home", "World", "Politics", "Business", "Sport", "Culture", "Weather"])


@pytest.mark.parametrize("nav", [
    f"<nav><ul>{''.join(f'<li><a href=/{i}>Section {i}</a></li>' for i in range(8))}</ul></nav>",
    f"<div>{NAV_LINKS}</div>",                                   # no hint at all: link density
    f"<div><ul>{''.join(f'<li><a href=/{i}>Section {i}</a></li>' for i in range(8))}</ul></div>",
])
def test_navigation_is_dropped(nav):
    text = extract_text(page(before=nav, after=nav), "https://example.org/a")
    assert_article_only(text, "Section 3", "Politics")


RELATED_TITLES = ["Mayor opens the new riverside park in the north of town",
                  "School board elects a new chair after a close vote",
                  "Bus fares to rise by five percent from March"]


@pytest.mark.parametrize("related", [
    '<div class="related-posts"><h3>Related</h3><ul>'
    + "".join(f'<li><a href="/r{i}">{t}</a></li>' for i, t in enumerate(RELATED_TITLES)) + "</ul></div>",
    "<div><h3>More from the city desk</h3><ul>"                  # no hint: link-dense list
    + "".join(f'<li><a href="/r{i}">{t}</a></li>' for i, t in enumerate(RELATED_TITLES)) + "</ul></div>",
    "<div><h3>Read next</h3>"                                    # teaser cards with headline links
    + "".join(f'<div><h4><a href="/r{i}">{t}</a></h4><a href="/r{i}">Read more</a></div>'
              for i, t in enumerate(RELATED_TITLES)) + "</div>",
])
def test_related_article_lists_are_dropped(related):
    text = extract_text(page(after=related), "https://example.org/a")
    assert_article_only(text, *RELATED_TITLES)


@pytest.mark.parametrize("footer", [
    "<footer><p>Copyright 2024 Daily Example. All rights reserved.</p>"
    '<a href="/about">About us</a> <a href="/contact">Contact</a></footer>',
    '<div><p>© 2024 Daily Example. All rights reserved.</p><p><a href="/about">About us</a> · '
    '<a href="/privacy">Privacy policy</a> · <a href="/terms">Terms of use</a></p></div>',
])
def test_footers_are_dropped(footer):
    text = extract_text(page(after=footer), "https://example.org/a")
    assert_article_only(text, "All rights reserved", "Privacy policy", "About us")


COOKIE = ("We use cookies to give you the best experience on our website. By continuing to browse "
          "you agree to our use of cookies.")


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("notice", [
    f'<div id="cookie-banner"><p>{COOKIE}</p><button>Accept</button></div>',
    f'<div class="bottom-bar"><p>{COOKIE}</p><a href="/privacy">Learn more</a></div>',   # no hint
])
def test_cookie_notices_are_dropped(notice, where):
    text = extract_text(page(**{where: notice}), "https://example.org/a")
    assert_article_only(text, "use cookies")


COMMENT = ("I have lived here for thirty years and the roads have never been this bad, so this money "
           "is long overdue in my opinion.")


@pytest.mark.parametrize("comments", [
    '<section id="comments"><h3>2 Comments</h3>'
    + f'<div class="comment"><a href="/u/1">roadwatcher</a><p>{COMMENT}</p><a href="#r">Reply</a></div>' * 2
    + "</section>",
    '<div class="comments-area"><ol class="comment-list">'
    + f'<li class="comment"><cite>Jane</cite> says:<p>{COMMENT}</p></li>' * 2 + "</ol></div>",
    '<div id="disqus_thread"></div><a href="https://disqus.com">blog comments powered by Disqus</a>',
])
def test_comment_widgets_are_dropped(comments):
    text = extract_text(page(after=comments), "https://example.org/a")
    assert_article_only(text, "thirty years", "Disqus", "Reply")


def test_captions_and_stray_lines_around_paragraphs_are_dropped():
    article = (ARTICLE[:-4] + '<figure><img src="x.jpg"><figcaption>The council chamber on Tuesday. '
               'Photo: J. Smith</figcaption></figure>' + "<p>" + PARAGRAPHS[-1] + "</p>"
               "<div>Sign up for our newsletter and get the news first.</div>")
    text = extract_text(page(article=article), "https://example.org/a")
    assert "council chamber on Tuesday" not in text
    assert "Sign up for our newsletter" not in text
    assert PARAGRAPHS[0] in text and PARAGRAPHS[-1] in text


def test_sub_headings_lists_and_tables_inside_the_article_stay():
    # (resiliparse's main-content pass drops <ul> lists inside articles, <ol> ones stay)
    article = (ARTICLE + "<h2>What the budget pays for</h2><ol><li>Road repairs in four districts</li>"
               "<li>Two new school buses</li><li>Longer library opening hours</li></ol>"
               "<div>District 1 budget 120</div><div>District 2 budget 95</div>"
               "<div>District 3 budget 80</div><div>District 4 budget 60</div>"
               f"<p>{PARAGRAPHS[0]}</p>")
    text = extract_text(page(article=article, after=f"<div>{NAV_LINKS}</div>"), "https://example.org/a")
    for kept in ["What the budget pays for", "• Two new school buses", "District 3 budget 80"]:
        assert kept in text


def test_a_page_without_prose_keeps_what_resiliparse_keeps():
    listing = "<div>" + "".join(f'<div><a href="/p{i}">Post number {i}</a></div>' for i in range(20)) + "</div>"
    text = extract_text(page(article=listing), "https://example.org/list")
    assert "Post number 7" in text


def test_link_density_and_labels_of_blocks():
    blocks = split_blocks('<p>Plain prose that goes on long enough to be a paragraph of an '
                          'article, with a full stop.</p>\n\n<ul>\n  <li><a href="/x">A link</a></li>\n</ul>'
                          '\n\n<h2>Heading</h2>\n\nbare <a href="/y">line</a>\nsecond line')
    label_blocks(blocks, BoilerplateParams())
    assert [(b.kind, b.label) for b in blocks] == [("p", "good"), ("li", "bad"), ("h", "head"),
                                                  ("text", "short"), ("text", "short")]
    assert blocks[3].text == "bare line" and blocks[3].link_chars == 4


def test_cjk_characters_weigh_like_words():
    sentence = "市议会周二晚上批准了新的预算，辩论持续了四个多小时。"
    text = main_text(f"<p>{sentence}</p>\n\n<p>{sentence * 2}</p>")
    assert sentence * 2 in text                   # 54 characters, yet a prose block


def test_link_rich_prose_and_headings_with_edit_links_stay():
    linked = ('<a href="/w/Escopete">Escopete</a> is a <a href="/w/Municipality">municipality</a> in '
              'the <a href="/w/Province_of_Guadalajara">province of Guadalajara</a>, '
              '<a href="/w/Castile-La_Mancha">Castile-La Mancha</a>, <a href="/w/Spain">Spain</a>.')
    article = (f"<p>{linked}</p><p>{PARAGRAPHS[0]}</p>"
               '<h2>History<a href="/edit?section=1">[edit]</a></h2>' f"<p>{PARAGRAPHS[1]}</p>")
    text = extract_text(page(article=article), "https://example.org/wiki")
    assert "is a municipality in the province of Guadalajara" in text
    assert "History" in text and PARAGRAPHS[1] in text


def test_paragraphs_about_copyright_or_cookies_are_not_notices():
    about = ("The committee on copyright and related rights met last week to discuss exceptions for "
             "libraries, and the bakery down the road sold out of cookies before noon.")
    text = extract_text(page(article=ARTICLE + f"<p>{about}</p>"), "https://example.org/a")
    assert about in text


def test_a_heading_left_at_the_end_of_the_text_goes():
    after = "<h3>Related posts</h3>" + "".join(f'<p><a href="/r{i}">{t}</a></p>' for i, t in enumerate(RELATED_TITLES))
    text = extract_text(page(after=after), "https://example.org/a")
    assert text.endswith(PARAGRAPHS[-1])


def test_code_blocks_and_line_breaks_keep_their_lines():
    code = "def area(r):\n    return 3.14159 * r * r\n\nprint(area(2))"
    article = ARTICLE + f"<pre>{code}</pre><p>Write to us at:<br>1 Harbour Road<br>Portsmouth</p>"
    text = extract_text(page(article=article), "https://example.org/a")
    assert code in text
    assert "Write to us at:\n1 Harbour Road\nPortsmouth" in text


def test_sidebar_widgets_after_the_article_are_dropped():
    tweet = ("<div>Council budget passes after a four hour debate on school funding and roads - "
             '<a href="https://t.co/x">https://t.co/x</a></div><div><a href="/reply">Reply</a> '
             '<a href="/rt">Retweet</a></div><div><a href="/@news">@news</a></div>')
    after = ("<div><h3>Polls</h3><p>Has the budget vote changed your mind?</p>"
             '<p><a href="/poll">View results</a></p><p><a href="/polls">Past polls</a></p>'
             '<h3>Advertisement</h3><h3>Newsletter</h3><h3>Book corner</h3>'
             "<p>It is a lovely book. It feels clear and light, it is easy to read and to dip in "
             "and out of, and it offers information without any fluff at all.</p>"
             "<h3>Popular categories</h3><h3>Follow us</h3>" + tweet * 3 + "</div>")
    # (the article is twice as long as the prose in the sidebar: against a shorter article, or
    # after less boilerplate than this (BoilerplateParams.gap), a run of prose would count as the
    # article's continuation)
    long_article = ARTICLE + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    text = extract_text(page(article=long_article, after=after), "https://example.org/a")
    assert_article_only(text, "lovely book", "Polls", "Follow us", "four hour debate")

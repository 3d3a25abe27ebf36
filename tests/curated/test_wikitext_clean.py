"""Wikitext -> prose: every kind of markup the issue names, without Spark."""
from __future__ import annotations

from pipeline.curated.wikitext import WikiNames, clean_wikitext, parse, top_templates

NAMES = WikiNames(drop_sections=frozenset({"references", "see also", "external links"}))

PAGE = """{{Short description|Greek philosopher}}
{{Infobox philosopher
| name = Example
| image = Example.jpg
}}
'''Example''' (born 1900) was a [[Philosophy|philosopher]] from [[Athens]].<ref name="a">{{cite book|title=X}}</ref> He wrote ''many'' books.<ref>Plain ref</ref><!-- hidden note -->
[[File:Example.jpg|thumb|A [[portrait]] of Example]]
[[Image:Other.png|left|200px]]

== Life ==
He lived in [[Athens#Old town|the old town]] &amp; taught.<br/>He had <span style="color:red">two</span> pupils.{{citation needed|date=2020}}
* First pupil, [http://example.org a scholar]
* Second pupil http://example.org/bare
{| class="wikitable"
|-
! Year !! Event
|-
| 1900 || Born
|}

== Empty section ==
{{Main|Something}}

== See also ==
* [[Other philosopher]]

== References ==
{{Reflist}}
<references/>

[[Category:Greek philosophers]]
[[de:Beispiel]]
[[fr:Exemple]]
__NOTOC__
"""


def test_markup_is_removed_and_prose_kept():
    text = clean_wikitext(PAGE, NAMES)
    for residue in ("{{", "}}", "[[", "]]", "<ref", "|-", "{|", "<!--", "<span", "<br", "Category",
                    "thumb", "Beispiel", "Exemple", "__NOTOC__", "Infobox", "''", "cite book",
                    "Plain ref", "hidden note", "Reflist", "Born", "http://"):
        assert residue not in text, residue
    assert text.startswith("Example (born 1900) was a philosopher from Athens. He wrote many books.")
    assert "He lived in the old town & taught.\nHe had two pupils." in text
    assert "First pupil, a scholar" in text
    assert "Second pupil" in text


def test_headings_are_plain_lines_and_empty_or_dropped_sections_go():
    text = clean_wikitext(PAGE, NAMES)
    lines = text.split("\n")
    assert "Life" in lines
    assert "Empty section" not in text
    assert "See also" not in text and "Other philosopher" not in text
    assert "References" not in text


def test_nested_sections_are_dropped_to_the_next_heading_of_their_level():
    page = "Intro text here.\n== References ==\n=== Inline ===\nx\n== History ==\nStory."
    assert clean_wikitext(page, NAMES) == "Intro text here.\n\nHistory\n\nStory."


def test_visible_category_link_and_link_without_label():
    text = clean_wikitext("See [[:Category:Birds]] and [[Bird]]s, [[#Notes|below]].", NAMES)
    assert text == "See Category:Birds and Birds, below."


def test_leftover_punctuation_from_removed_templates():
    text = clean_wikitext("'''Albert''' ({{IPAc-en|a}}; {{IPA-de|b}}; 14 March 1879) was {{lang|x}} ().", NAMES)
    assert text == "Albert (14 March 1879) was."


def test_top_templates_for_disambiguation():
    code = parse("'''Mercury''' may refer to:\n* [[Mercury (planet)]]\n{{Disambiguation|geo}}")
    assert "disambiguation" in top_templates(code)

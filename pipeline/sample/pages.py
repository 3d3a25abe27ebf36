"""HTML of the sample crawl's pages: one site template for articles (header, navigation, article,
related links, footer, as real article pages are laid out) and a plainer one for everything else."""
from __future__ import annotations

from html import escape

SITE_NAV = ["Home", "News", "Features", "Opinion", "About", "Contact"]


def _blocks_html(blocks: list) -> str:
    out = []
    for kind, value in blocks:
        if kind == "p":
            out.append(f"<p>{escape(value)}</p>")
        elif kind == "h2":
            out.append(f"<h2>{escape(value)}</h2>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{escape(item)}</li>" for item in value) + "</ul>")
        elif kind == "links":
            out.append("<div class=\"links\">" + " ".join(
                f"<a href=\"{escape(href)}\">{escape(label)}</a>" for href, label in value) + "</div>")
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    return "\n".join(out)


def article_page(site: str, title: str, author: str, date: str, paragraphs: list[str],
                 related: list[tuple[str, str]], lang: str = "en", footer_note: str = "") -> str:
    nav = "".join(f"<li><a href=\"/{item.lower()}/\">{item}</a></li>" for item in SITE_NAV)
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    if footer_note:
        body += f"\n<p class=\"note\">{escape(footer_note)}</p>"
    rel = "".join(f"<li><a href=\"{escape(href)}\">{escape(label)}</a></li>" for href, label in related)
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{escape(title)} | {escape(site)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/site.css">
<script>window.dataLayer = window.dataLayer || [];</script>
</head>
<body>
<header class="site-header"><a class="logo" href="/">{escape(site)}</a>
<nav><ul>{nav}</ul></nav>
<form action="/search"><input type="text" name="q" placeholder="Search"></form>
</header>
<main>
<article>
<h1>{escape(title)}</h1>
<p class="byline">By {escape(author)} | {escape(date)}</p>
{body}
</article>
<aside class="related"><h3>Related articles</h3><ul>{rel}</ul></aside>
</main>
<footer><p>Copyright {escape(date[:4])} {escape(site)}. All rights reserved.</p>
<ul><li><a href="/privacy/">Privacy Policy</a></li><li><a href="/terms/">Terms of Use</a></li></ul>
</footer>
</body>
</html>
"""


def plain_page(site: str, title: str, blocks: list, lang: str = "en", charset: str = "utf-8") -> str:
    """Junk, shop and non-English pages: a title, a menu, the blocks, a footer."""
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{escape(title)}</title>
</head>
<body>
<div id="top"><a href="/">{escape(site)}</a> <a href="/login">Login</a> <a href="/cart">Cart</a></div>
<div id="content">
<h1>{escape(title)}</h1>
{_blocks_html(blocks)}
</div>
<div id="footer">{escape(site)}</div>
</body>
</html>
"""


def error_page(status: int, reason: str) -> str:
    return (f"<!DOCTYPE html>\n<html><head><title>{status} {escape(reason)}</title></head>"
            f"<body><h1>{status} {escape(reason)}</h1><p>The requested URL could not be served.</p>"
            "<hr><address>nginx</address></body></html>\n")

"""URL normalisation, blocklists and SURT keys for the WebText link table.

`url-normalize` does the RFC 3986 work (scheme and host case, IDNA, default ports, percent-encoding,
dot segments); on top of it we drop what makes two links to one page look different — fragments,
tracking parameters, a trailing slash — because the link table sums karma per page.
The join key with a CommonCrawl index is the SURT form (`surt` package), the form in which the
cc-index table stores `url_surtkey`.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import surt as surt_lib
from url_normalize import url_normalize

# Parameters that identify a campaign or a click, never the page (the usual lists of
# ClearURLs / Firefox query stripping, trimmed to the common ones).
TRACKING_PARAMS = frozenset("""
fbclid gclid dclid gclsrc msclkid yclid twclid igshid mc_cid mc_eid _ga _gl _hsenc _hsmi
mkt_tok oly_anon_id oly_enc_id vero_id wickedid __s s_cid ref_src ref_url cmpid
""".split())
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "ga_")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _strip_tracking(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs
            if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)]
    if len(kept) == len(pairs):
        return query          # untouched: keep the original encoding of the query
    return urlencode(kept, doseq=True)


def normalize_url(raw: str | None) -> tuple[str | None, str | None]:
    """(normalised URL, None), or (None, reason) with reason one of
    missing_url, not_http, bad_url."""
    if raw is None or not str(raw).strip():
        return None, "missing_url"
    # Pushshift stores URLs HTML-escaped ("&amp;").
    text = html.unescape(str(raw).strip())
    if not _SCHEME.match(text):
        return None, "not_http"
    scheme = text.split(":", 1)[0].lower()
    if scheme not in ("http", "https"):
        return None, "not_http"
    try:
        normalized = url_normalize(text)
        parts = urlsplit(normalized)
        host = parts.hostname
        port = parts.port          # raises ValueError on a port out of range
    except (ValueError, UnicodeError, TypeError):
        return None, "bad_url"
    # A host needs a dot (or is an IPv6 literal / localhost): "http://nohost" is a typo, not a site.
    if not host or not ("." in host or ":" in host or host == "localhost") or port == 0:
        return None, "bad_url"
    path = parts.path
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    url = urlunsplit((parts.scheme, parts.netloc, path or "/", _strip_tracking(parts.query), ""))
    return url, None


def url_host(url: str) -> str:
    """Lower-case host name of a normalised URL ("" when there is none)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def surt_key(url: str) -> str | None:
    """The cc-index `url_surtkey` of a URL (None when it does not parse)."""
    try:
        return surt_lib.surt(url)
    except Exception:  # surt raises assorted errors on odd input; the URL is simply unjoinable
        return None


def _host_matches(host: str, domains: frozenset[str]) -> bool:
    """True if `host` is one of `domains` or a sub-domain of one."""
    labels = host.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels)))


@dataclass(frozen=True)
class UrlRules:
    """The domain/extension blocklists of the links stage (conf: reddit_links)."""
    blocked_domains: frozenset[str]
    blocked_extensions: tuple[str, ...]
    drop_wikipedia: bool

    @classmethod
    def from_config(cls, section: dict) -> "UrlRules":
        return cls(
            blocked_domains=frozenset(d.lower().lstrip(".") for d in section["blocked_domains"]),
            blocked_extensions=tuple("." + e.lower().lstrip(".") for e in section["blocked_extensions"]),
            drop_wikipedia=section["drop_wikipedia"],
        )

    def reason(self, url: str) -> str | None:
        """Why a normalised URL is not a WebText link (None: it is one):
        wikipedia, blocked_domain or blocked_extension."""
        host = url_host(url)
        if self.drop_wikipedia and _host_matches(host, frozenset(("wikipedia.org", "wikimedia.org"))):
            return "wikipedia"
        if _host_matches(host, self.blocked_domains):
            return "blocked_domain"
        if urlsplit(url).path.lower().endswith(self.blocked_extensions):
            return "blocked_extension"
        return None

"""A Reddit submissions dump in Pushshift's form (one JSON object a line, zstd-compressed, one file
per month: RS_2017-06.zst) whose links point at pages of the sample crawl, so WebText can be built
from the sample: most link posts clear the 3-karma bar, some do not, some are self posts, some are
NSFW, some link to blocked media domains, to Wikipedia or to pages the crawl never saw."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import zstandard

from pipeline.core.hashing import hash64
from pipeline.sample.crawl import Page
from pipeline.sample.documents import rng_for

SUBREDDITS = ["programming", "Python", "technology", "learnprogramming", "science", "news",
              "todayilearned", "compsci", "DepthHub", "TrueReddit"]
BLOCKED_LINKS = ["https://i.imgur.com/{k}.jpg", "https://imgur.com/gallery/{k}",
                 "https://www.youtube.com/watch?v={k}", "https://youtu.be/{k}", "https://gfycat.com/{k}",
                 "https://v.redd.it/{k}"]
MONTH_STARTS = [datetime(2017, 6, 1, tzinfo=timezone.utc), datetime(2017, 7, 1, tzinfo=timezone.utc)]
MONTH_SECONDS = 30 * 86400
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(value: int, width: int = 6) -> str:
    out = ""
    for _ in range(width):
        value, digit = divmod(value, 36)
        out = _BASE36[digit] + out
    return out


def _domain(url: str) -> str:
    host = url.split("/")[2].lower()
    return host[4:] if host.startswith("www.") else host


def _submission(seed: int, n: int, rng, *, url: str | None, title: str, score: int,
                over_18: bool = False, selftext: str = "") -> dict:
    sub_id = _base36(hash64(seed, "reddit-id", n))
    subreddit = rng.choice(SUBREDDITS)
    month = MONTH_STARTS[n % len(MONTH_STARTS)]
    created = int(month.timestamp()) + rng.randrange(MONTH_SECONDS)
    slug = "_".join(title.lower().split()[:6])
    permalink = f"/r/{subreddit}/comments/{sub_id}/{slug}/"
    is_self = url is None
    return {
        "id": sub_id, "name": f"t3_{sub_id}", "author": f"user_{_base36(hash64(seed, 'author', n), 5)}",
        "created_utc": created, "subreddit": subreddit, "subreddit_id": f"t5_{_base36(hash64(subreddit), 5)}",
        "title": title, "url": f"https://www.reddit.com{permalink}" if is_self else url,
        "domain": f"self.{subreddit}" if is_self else _domain(url), "is_self": is_self,
        "selftext": selftext, "score": score, "num_comments": rng.randrange(0, 60), "over_18": over_18,
        "permalink": permalink, "stickied": False, "retrieved_on": created + 86400,
    }


def submissions(pages: list[Page], seed: int, scale: int = 1) -> list[dict]:
    """The dump's rows (with a `_expect` note for tests, removed before writing)."""
    rng = rng_for(seed, "reddit")
    articles = [p for p in pages if p.kind == "article"]
    rows: list[tuple[dict, str]] = []

    def add(expect: str, **kwargs) -> None:
        rows.append((_submission(seed, len(rows), rng, **kwargs), expect))

    linked = rng.sample(articles, int(len(articles) * 0.6))
    for page in linked:
        add("link", url=page.url, title=page.title, score=rng.randint(3, 900))
    for page in linked[:10 * scale]:                     # the same link submitted again elsewhere
        add("link", url=page.url, title=page.title, score=rng.randint(3, 90))
    # Low-karma and NSFW posts link pages no other post links, so their absence is testable.
    unlinked = [p for p in articles if p not in set(linked)]
    for page in unlinked[:12 * scale]:
        add("low_score", url=page.url, title=page.title, score=rng.randint(-3, 2))
    for page in unlinked[12 * scale:18 * scale]:
        add("over_18", url=page.url, title=page.title, score=rng.randint(3, 400), over_18=True)
    for kind in ("seo_spam", "clickbait", "near_duplicate", "exact_duplicate", "foreign"):
        for page in [p for p in pages if p.kind == kind][:4 * scale]:
            add("link", url=page.url, title=page.title or "interesting page", score=rng.randint(3, 60))
    for i in range(10 * scale):
        add("self", url=None, title=f"Question about {rng.choice(SUBREDDITS)} number {i}",
            score=rng.randint(3, 200), selftext="I have been reading about this all week. What do you think?")
    for i in range(10 * scale):
        link = BLOCKED_LINKS[i % len(BLOCKED_LINKS)].format(k=_base36(hash64(seed, "media", i), 7))
        add("blocked", url=link, title=f"Look at this {i}", score=rng.randint(3, 5000))
    for i in range(4 * scale):
        add("wikipedia", url=f"https://en.wikipedia.org/wiki/Sample_article_{i}", title=f"Wikipedia {i}",
            score=rng.randint(3, 300))
    for i in range(6 * scale):                           # dead links: pages the crawl never captured
        host = articles[i % len(articles)].host
        add("not_crawled", url=f"https://{host}/2017/06/never-crawled-{i}/", title=f"Lost page {i}",
            score=rng.randint(3, 50))
    out = []
    for row, expect in rows:
        row["_expect"] = expect
        out.append(row)
    out.sort(key=lambda r: (r["created_utc"], r["id"]))
    return out


def write_dump(reddit_dir, rows: list[dict]) -> list[str]:
    """One zstd NDJSON file per month (Pushshift's RS_YYYY-MM.zst); returns the file names."""
    by_month: dict[str, list[bytes]] = {}
    for row in rows:
        month = datetime.fromtimestamp(row["created_utc"], tz=timezone.utc).strftime("%Y-%m")
        record = {k: v for k, v in row.items() if not k.startswith("_")}
        by_month.setdefault(month, []).append(json.dumps(record, sort_keys=True).encode() + b"\n")
    names = []
    compressor = zstandard.ZstdCompressor(level=10)   # single-threaded: the same bytes every run
    for month in sorted(by_month):
        name = f"RS_{month}.zst"
        (reddit_dir / name).write_bytes(compressor.compress(b"".join(by_month[month])))
        names.append(name)
    return names

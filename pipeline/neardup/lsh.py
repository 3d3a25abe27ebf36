"""Banded LSH parameters: named presets from conf/pipeline.yaml (`dedup.presets`), and the S-curve.

A pair with Jaccard similarity s becomes a candidate when all `rows` values of at least one of the
`bands` bands agree: P(s) = 1 - (1 - s^rows)^bands.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.config import ConfigError

FEATURES = ("words", "terms")          # word n-gram shingles | classifier tokens hashed by HashingTF
VERIFY = ("none", "estimated", "exact")
HASHES = ("words", "sha1")             # shingle hash: fast word-hash composition | datasketch's default
S_CURVE_POINTS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


@dataclass(frozen=True)
class LshParams:
    name: str
    features: str
    ngram: int
    bands: int
    rows: int
    verify: str
    threshold: float
    max_bucket_size: int
    hash: str
    num_features: int
    seed: int

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows


def from_config(conf: dict, num_features: int) -> LshParams:
    """The chosen preset of the `dedup` section; mistakes name their key."""
    name = conf["preset"]
    presets = conf["presets"]
    if name not in presets:
        raise ConfigError(f"config key 'dedup.preset' must be one of {', '.join(presets)}, got {name!r}")
    p = presets[name]
    key = f"dedup.presets.{name}"
    if p["features"] not in FEATURES:
        raise ConfigError(f"config key '{key}.features' must be one of {', '.join(FEATURES)}")
    if p["hash"] not in HASHES:
        raise ConfigError(f"config key '{key}.hash' must be one of {', '.join(HASHES)}")
    if p["verify"] not in VERIFY:
        raise ConfigError(f"config key '{key}.verify' must be one of {', '.join(VERIFY)}")
    if p["verify"] == "exact" and p["features"] != "terms":
        raise ConfigError(f"config key '{key}.verify': exact verification needs features: terms")
    for field in ("ngram", "bands", "rows", "max_bucket_size"):
        if p[field] < 1:
            raise ConfigError(f"config key '{key}.{field}' must be >= 1")
    if not 0.0 <= p["threshold"] <= 1.0:
        raise ConfigError(f"config key '{key}.threshold' must lie in [0, 1]")
    return LshParams(name=name, features=p["features"], ngram=p["ngram"], bands=p["bands"],
                     rows=p["rows"], verify=p["verify"], threshold=float(p["threshold"]),
                     max_bucket_size=p["max_bucket_size"], hash=p["hash"], num_features=num_features, seed=conf["seed"])


def candidate_probability(s: float, bands: int, rows: int) -> float:
    return 1.0 - (1.0 - s ** rows) ** bands


def s_curve(bands: int, rows: int, points=S_CURVE_POINTS) -> dict[str, float]:
    return {f"{s:.2f}": round(candidate_probability(s, bands, rows), 4) for s in points}


def format_s_curve(params: LshParams) -> str:
    curve = s_curve(params.bands, params.rows)
    head = (f"LSH preset {params.name}: {params.features}"
            f"{f' {params.ngram}-grams' if params.features == 'words' else ''}, "
            f"{params.bands} bands x {params.rows} rows = {params.num_perm} permutations, "
            f"verify={params.verify}" + (f" >= {params.threshold}" if params.verify != "none" else ""))
    rows = "\n".join(f"  P(candidate | Jaccard {s}) = {p:.4f}" for s, p in curve.items())
    return f"{head}\n{rows}"

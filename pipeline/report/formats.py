"""Numbers as a person reads them (the templates' filters)."""
from __future__ import annotations


def num(value, digits: int = 3):
    """Thousands separated, floats to a few significant digits; anything else as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "n/a"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    return value


def human(n) -> str:
    """1234567 -> 1.23M (token counts)."""
    if not isinstance(n, (int, float)):
        return ""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{n:.0f}"

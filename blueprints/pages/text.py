"""Text of the pages: every value escaped, every number formatted the same way."""
from __future__ import annotations

import math
from datetime import datetime, timezone
from html import escape

DASH = "–"


def esc(value) -> str:
    """Any value as escaped text (quotes too, so it is safe in attributes); None is a dash."""
    return DASH if value is None else escape(str(value), quote=True)


def words(value) -> str:
    """A stored status word as people read it ("no_drift" → "no drift"), escaped."""
    return esc(value.replace("_", " ") if isinstance(value, str) else value)


def finite(value) -> float | None:
    """A real, finite number as float; anything else (None, bool, text, NaN, ∞) is None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def num(value, places: int = 4) -> str:
    number = finite(value)
    return DASH if number is None else f"{number:.{places}f}"


def signed(value, places: int = 4) -> str:
    number = finite(value)
    return DASH if number is None else f"{number:+.{places}f}".replace("-", "−")


def pct(value, places: int = 1) -> str:
    number = finite(value)
    return DASH if number is None else f"{number * 100:.{places}f}%"


def count(value) -> str:
    number = finite(value)
    return DASH if number is None else f"{int(number):,}".replace(",", "\u202f")


def interval(lower, upper, places: int = 4) -> str:
    if finite(lower) is None or finite(upper) is None:
        return DASH
    return f"[{num(lower, places)}, {num(upper, places)}]"


def stamp(value) -> str:
    """An ISO timestamp as HTML: "2026-12-02 08:15 UTC" in a <time> whose title is the full value;
    anything that is not a timestamp as escaped text (None a dash)."""
    if not isinstance(value, str) or not value:
        return esc(value or None)
    if len(value) < 16 or value[10:11] not in ("T", " "):  # a date alone, or not a timestamp at all
        return esc(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return esc(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return f"<time datetime='{esc(value)}' title='{esc(value)}'>{moment:%Y-%m-%d %H:%M} UTC</time>"


def column(values: list) -> list[str]:
    """One column's values as escaped text in one format: integers as integers when every number of the
    column is whole (68.0 → 68), else decimals by magnitude (0.213, 19.35, 1234.5); text as it is."""
    numbers = [finite(v) for v in values]
    known = [n for n in numbers if n is not None]
    whole = all(n == int(n) for n in known)
    largest = max((abs(n) for n in known), default=0.0)
    places = 3 if largest < 10 else 2 if largest < 1000 else 1
    return [esc(v) if n is None else f"{int(n)}" if whole else f"{n:.{places}f}" for v, n in zip(values, numbers)]

"""Text of the pages: every value escaped, every number formatted the same way."""
from __future__ import annotations

import math
from html import escape

DASH = "–"


def esc(value) -> str:
    """Any value as escaped text (quotes too, so it is safe in attributes); None is a dash."""
    return DASH if value is None else escape(str(value), quote=True)


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

"""Subgroups: slices of the rows by one feature's value bands (e.g. age bands), each judged on its own.

A slice specification is `Column=cut,cut;Column=cut`: `Age=30,50` makes the slices Age < 30,
30 ≤ Age < 50 and Age ≥ 50; `Pregnancies=1` makes Pregnancies = 0 and Pregnancies > 0 (integers).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_SLICES = "Age=30,50;BMI=25,30;Pregnancies=1"
_COLUMN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Slice:
    column: str
    low: float | None  # inclusive
    high: float | None  # exclusive

    @property
    def name(self) -> str:
        if self.low is None:
            return f"{self.column} < {_number(self.high)}"
        if self.high is None:
            return f"{self.column} ≥ {_number(self.low)}"
        return f"{_number(self.low)} ≤ {self.column} < {_number(self.high)}"

    def contains(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value < self.high)


def parse_slices(spec: str) -> tuple[Slice, ...]:
    """The slices of a specification; ValueError naming the part that is not `Column=number,number`."""
    slices = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        column, _, cuts = part.partition("=")
        column = column.strip()
        if not _COLUMN.match(column):
            raise ValueError(f"slice {part!r}: {column!r} is not a column name")
        try:
            points = sorted({float(c) for c in cuts.split(",") if c.strip()})
        except ValueError:
            raise ValueError(f"slice {part!r}: cut points must be numbers, e.g. Age=30,50") from None
        if not points:
            raise ValueError(f"slice {part!r}: no cut points, e.g. Age=30,50")
        bounds = [None, *points, None]
        slices.extend(Slice(column, low, high) for low, high in zip(bounds, bounds[1:]))
    return tuple(slices)


def slice_rows(slice_: Slice, features: dict) -> list[int] | None:
    """The indices of the rows in the slice; None when the rows lack the column."""
    values = features.get(slice_.column)
    if values is None:
        return None
    return [i for i, value in enumerate(values) if value == value and slice_.contains(value)]


def _number(value: float) -> str:
    return f"{value:g}"

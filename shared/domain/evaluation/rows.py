"""Rows scored by one or more model versions: the same rows, in the same order, for every version."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScoredRows:
    """`labels[i]` is None for a row without a label (live traffic); `probabilities[version][i]` is
    that version's probability of the positive class; `parts` names where the rows came from, in order."""

    labels: tuple
    features: dict
    probabilities: dict
    parts: tuple = ()

    @property
    def rows(self) -> int:
        return len(self.labels)

    def describe(self) -> str:
        """e.g. "held-out split of v3 (1500 rows) + prod/new.csv (5000 rows)"."""
        return " + ".join(f"{name} ({count} rows)" for name, count in self.parts) or f"{self.rows} rows"

    def labelled(self) -> "ScoredRows":
        """Only the rows that have a label."""
        keep = [i for i, label in enumerate(self.labels) if label is not None]
        if len(keep) == self.rows:
            return self
        return self.select(keep, parts=())

    def select(self, indices: list[int], parts: tuple = ()) -> "ScoredRows":
        return ScoredRows(
            labels=tuple(self.labels[i] for i in indices),
            features={name: tuple(values[i] for i in indices) for name, values in self.features.items()},
            probabilities={v: tuple(p[i] for i in indices) for v, p in self.probabilities.items()},
            parts=parts,
        )

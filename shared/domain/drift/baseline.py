"""The baseline of a drift check, parsed from the profile the training job logged with the model."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from shared.domain.drift.profile_format import DEFAULT_BINS, Grid, coarse_cuts, grid_from_values


class ProfileError(ValueError):
    """The baseline profile cannot be used (malformed or empty)."""


@dataclass(frozen=True)
class NumericBaseline:
    """A numeric feature's reference: summary, fine grid of counts, and coarse quantile bins on that grid."""

    name: str
    dtype: str
    integer: bool
    count: int
    null_count: int
    min: float
    max: float
    mean: float | None
    std: float | None
    start: float            # fine grid: cells [start + i*width, start + (i+1)*width)
    width: float
    cells: int
    fine_counts: tuple[int, ...]   # cells + 2 entries: below the grid, the cells, above it
    cuts: tuple[int, ...]          # coarse (quantile) bins as boundaries in fine_counts
    kind: str = "numeric"

    @property
    def edges(self) -> tuple[float, ...]:
        """Coarse bin edges for display: [min, inner edges..., max]."""
        inner = tuple(self.start + (cut - 1) * self.width for cut in self.cuts)
        return (self.min, *inner, self.max)

    @property
    def coarse_counts(self) -> tuple[int, ...]:
        """Reference counts per coarse bin (sums of fine cells)."""
        bounds = (0, *self.cuts, len(self.fine_counts))
        return tuple(sum(self.fine_counts[a:b]) for a, b in zip(bounds, bounds[1:]))


@dataclass(frozen=True)
class CategoricalBaseline:
    """A categorical feature's reference: count per known category, and of the rest."""

    name: str
    dtype: str
    count: int
    null_count: int
    categories: tuple[str, ...]
    counts: tuple[int, ...]
    other_count: int
    kind: str = "categorical"


@dataclass(frozen=True)
class Baseline:
    """Every usable feature of a profile, by name."""

    features: Mapping[str, NumericBaseline | CategoricalBaseline]
    rows: int
    version: int

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.features)


def baseline_from_profile(profile: dict) -> Baseline:
    """Parse a baseline profile (version 2, or version 1 with its reference sample) into a `Baseline`.

    Features without any reference value (an all-empty training column) are left out:
    nothing can drift against them. Raises ProfileError when nothing usable is left.
    """
    if not isinstance(profile, dict) or not isinstance(profile.get("features"), dict):
        raise ProfileError("baseline profile has no 'features' object")
    version = int(profile.get("version", 1))
    features: dict[str, NumericBaseline | CategoricalBaseline] = {}
    for name, spec in profile["features"].items():
        if not isinstance(spec, dict):
            raise ProfileError(f"baseline profile: feature {name!r} is not an object")
        try:
            if spec.get("kind") == "categorical":
                feature = _categorical_baseline(str(name), spec)
            else:
                feature = _numeric_baseline(str(name), spec)
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise ProfileError(f"baseline profile: feature {name!r} is malformed ({error})") from None
        if feature is not None:
            features[str(name)] = feature
    if not features:
        raise ProfileError("baseline profile has no feature with reference values")
    return Baseline(features=features, rows=int(profile.get("rows", 0)), version=version)


def _numeric_baseline(name: str, spec: dict) -> NumericBaseline | None:
    if not spec.get("count"):
        return None
    if spec.get("grid"):
        grid, cuts, integer = _stored_grid(spec)
    else:
        rebuilt = _grid_from_sample(spec)
        if rebuilt is None:
            return None
        grid, cuts, integer = rebuilt
    start, width, cells, fine = grid
    return NumericBaseline(
        name=name,
        dtype=str(spec.get("dtype", "")),
        integer=integer,
        count=int(spec["count"]),
        null_count=int(spec.get("null_count", 0)),
        min=float(spec["min"]),
        max=float(spec["max"]),
        mean=None if spec.get("mean") is None else float(spec["mean"]),
        std=None if spec.get("std") is None else float(spec["std"]),
        start=start,
        width=width,
        cells=cells,
        fine_counts=fine,
        cuts=tuple(c for c in cuts if 1 < c < cells + 1),
    )


def _stored_grid(spec: dict) -> tuple[Grid, list[int], bool]:
    """Version 2: the grid as stored, the coarse bins' edges mapped back to cell boundaries."""
    grid = spec["grid"]
    start, width, cells = float(grid["start"]), float(grid["width"]), int(grid["cells"])
    fine = tuple(int(c) for c in grid["counts"])
    if len(fine) != cells + 2 or width <= 0 or sum(fine) <= 0:
        raise ValueError("grid counts do not match its cells")
    inner = spec.get("bin_edges", [])[1:-1]
    cuts = sorted({min(max(int(round((float(e) - start) / width)) + 1, 1), cells + 1) for e in inner})
    integer = bool(spec.get("integer", "int" in str(spec.get("dtype", ""))))
    return (start, width, cells, fine), cuts, integer


def _grid_from_sample(spec: dict) -> tuple[Grid, list[int], bool] | None:
    """Version 1: the grid and bins rebuilt from the sorted reference sample (None if it is empty)."""
    sample = [float(v) for v in spec["sample"]]
    if not sample:
        return None
    integer = "int" in str(spec.get("dtype", "")) or all(v == round(v) for v in sample)
    grid = grid_from_values(sample, integer)
    bins = max(len(spec.get("bin_edges", [])) - 1, DEFAULT_BINS)
    return grid, coarse_cuts(grid[3], bins), integer


def _categorical_baseline(name: str, spec: dict) -> CategoricalBaseline | None:
    categories = {str(k): int(v) for k, v in dict(spec["categories"]).items()}
    other = int(spec.get("other_count", 0))
    if not categories and not other:
        return None
    return CategoricalBaseline(
        name=name,
        dtype=str(spec.get("dtype", "")),
        count=int(spec.get("count", sum(categories.values()) + other)),
        null_count=int(spec.get("null_count", 0)),
        categories=tuple(categories),
        counts=tuple(categories.values()),
        other_count=other,
    )

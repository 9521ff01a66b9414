"""The profile of a file, made by the data contract's validation pass while it streams the file.

`FileProfiler` is the observer `validate_csv` takes: each feature column's checker hands it
the values it has just converted and range-checked (for a low-cardinality column, its
distinct cells and their counts), and the engine hands it each batch of rows, from which
only the few rows the bottom-k sample keeps are parsed. So the file is read once, for the
verdict and its profile together.
"""
from __future__ import annotations

import zlib
from typing import Callable, Sequence

from shared.domain.drift.window import WindowAccumulator
from shared.domain.drift.window_profile import RESERVOIR_ROWS, new_profile, profile_grids


class FileProfiler:
    """Builds one file's window profile from the validation pass of `contract`."""

    def __init__(self, contract, reservoir_size: int = RESERVOIR_ROWS, seed: int = 0) -> None:
        self.grids = profile_grids(contract.columns)
        self.profile: WindowAccumulator = new_profile(self.grids, reservoir_size, seed)
        self._index = {i: rule.name for i, rule in enumerate(contract.columns) if rule.name in self.grids.features}

    def sink_for(self, index: int) -> Callable | None:
        """What the checker of contract column `index` calls with its values (None: not profiled)."""
        name = self._index.get(index)
        return self.profile.tally(name).add_values if name is not None else None

    def rows(self, columns: Sequence[Sequence[str]], positions: Sequence[int]) -> None:
        """One batch of rows (columns in header order; `positions`: header index of each contract column)."""
        where = {name: positions[i] for i, name in self._index.items()}
        n = len(columns[positions[0]]) if positions else 0

        def pick(chosen):
            import numpy as np

            return {name: np.array([_number(columns[at][j]) for j in chosen.tolist()], dtype=np.float64)
                    for name, at in where.items()}

        if n:
            self.profile.count_rows(n, pick)


def profile_seed(name: str, etag: str) -> int:
    """A file version's own sample seed, so the samples of different files are independent."""
    return zlib.crc32(f"{name}\n{etag}".encode("utf-8", "surrogatepass"))


def _number(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return float("nan")

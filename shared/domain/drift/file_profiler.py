"""The profile of a file, made by the data contract's validation pass while it streams the file.

`FileProfiler` is the observer `validate_csv` takes. The checker of an integer feature column
first offers it the batch's cells: numpy reads them all at once (`np.fromstring`) and, when
every cell is a plain integer within the column's range, they are counted and the batch is
valid without the checker's own pass (the cells numpy reads are exactly what int() reads). Any
other batch (a "3.0", an empty cell, a bad value) is checked as without a profile and handed
over with its converted values, or, for a low-cardinality column checked on its distinct cells
only, with the cells themselves (counted by distinct cell). The engine hands it each batch of
rows, from which only the few rows the bottom-k sample keeps are parsed. So the file is read
once, for the verdict and its profile together.
"""
from __future__ import annotations

import zlib
from collections import Counter
from typing import Sequence

from shared.domain.drift.window import WindowAccumulator
from shared.domain.drift.window_profile import RESERVOIR_ROWS, new_profile, profile_grids


class FileProfiler:
    """Builds one file's window profile from the validation pass of `contract`."""

    def __init__(self, contract, reservoir_size: int = RESERVOIR_ROWS, seed: int = 0) -> None:
        self.grids = profile_grids(contract.columns)
        self.profile: WindowAccumulator = new_profile(self.grids, reservoir_size, seed)
        self._index = {i: rule.name for i, rule in enumerate(contract.columns) if rule.name in self.grids.features}

    def sink_for(self, index: int) -> "ColumnSink | None":
        """What the checker of contract column `index` hands each checked batch (None: not profiled)."""
        name = self._index.get(index)
        return ColumnSink(self.profile.tally(name)) if name is not None else None

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


class ColumnSink:
    """One feature column's side of the validation pass.

    `sink(values, cells, nulls)`: a checked batch's valid numbers (`values`), or None when every one
    of its `cells` is a valid number the checker did not convert one by one (then they are counted
    by distinct cell); `nulls` empty cells. `integers_within(cells, low, high)` (integer grids
    only, else None): the checker of an int column asks first; when numpy reads every cell as a
    plain integer within [low, high] they are counted and it answers True (the batch is valid:
    int() reads what numpy reads), else it counts nothing and the checker goes its usual way.
    """

    __slots__ = ("tally", "integers_within")

    def __init__(self, tally) -> None:
        self.tally = tally
        self.integers_within = self._integers_within if getattr(tally, "integer_base", None) is not None else None

    def __call__(self, values, cells: Sequence[str], nulls: int) -> None:
        if values is not None:
            self.tally.add_values(values, None, len(cells), nulls)
            return
        counts = Counter(cells)
        self.tally.add_values(_numbers(counts), counts.values(), len(cells), 0)

    def _integers_within(self, cells: Sequence[str], low, high) -> bool:
        parsed = _integers(cells)
        if parsed is None or not parsed.size:
            return False
        if (low is not None and int(parsed.min()) < low) or (high is not None and int(parsed.max()) > high):
            return False
        self.tally.add_integer_array(parsed, len(cells))
        return True


def profile_seed(name: str, etag: str) -> int:
    """A file version's own sample seed, so the samples of different files are independent."""
    return zlib.crc32(f"{name}\n{etag}".encode("utf-8", "surrogatepass"))


def _integers(cells: Sequence[str]):
    """The cells (valid numbers) as int64, parsed at C speed; None when numpy does not read them all."""
    import warnings

    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # numpy's "could not be read to its end"
        try:
            parsed = np.fromstring(",".join(cells), dtype=np.int64, sep=",")
        except (ValueError, DeprecationWarning):
            return None
    return parsed if parsed.size == len(cells) else None


def _numbers(cells) -> list:
    """Valid number cells as the checker converts them: int when every one reads as int, else float."""
    try:
        return list(map(int, cells))
    except ValueError:
        return list(map(float, cells))


def _number(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return float("nan")

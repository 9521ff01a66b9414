"""The profile of a file, made by the data contract's validation pass while it streams the file.

`FileProfiler` is the observer `validate_csv` takes: each feature column's checker hands it
the values it has just converted and range-checked, or, for a low-cardinality column checked
on its distinct cells only, the cells themselves, all known valid: an integer column's cells
are then parsed at once by numpy (`np.fromstring`, cheaper than counting them in a Counter),
anything numpy does not read ("3.0", "1e3") is counted by distinct cell. The engine hands it
each batch of rows, from which only the few rows the bottom-k sample keeps are parsed. So the
file is read once, for the verdict and its profile together.
"""
from __future__ import annotations

import zlib
from collections import Counter
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
        """What the checker of contract column `index` calls for each checked batch (None: not profiled):
        `sink(values, cells, nulls)` with the batch's valid numbers, or None when every one of its
        `cells` is a valid number the checker did not convert one by one; `nulls` empty cells."""
        name = self._index.get(index)
        if name is None:
            return None
        tally = self.profile.tally(name)
        integer = tally.integer_base is not None

        def sink(values, cells, nulls: int) -> None:
            if values is not None:
                tally.add_values(values, None, len(cells), nulls)
                return
            parsed = _integers(cells) if integer else None
            if parsed is not None:
                tally.add_integer_array(parsed, len(cells))
                return
            counts = Counter(cells)
            tally.add_values(_numbers(counts), counts.values(), len(cells), 0)

        return sink

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

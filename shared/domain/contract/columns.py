"""The cells of one contract column, checked batch by batch.

Each column of a batch is converted at C speed (`list(map(int, column))`) and range-checked
with min()/max(). Only a column-batch that fails this fast check is walked cell by cell, to
find and describe the exact problems. An optional `sink` (the file's profile) is handed each
checked batch: the converted list, or None when only the distinct cells were converted (then
every cell is a valid number and the sink reads the cells itself), so profiling costs no
second conversion. An int column's sink that reads cells at once (`sink.integers_within`) is
asked first: it answers True only when every cell is a plain integer in range, which this
check would accept too, and has then counted them; otherwise the check runs as usual.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

from shared.domain.contract.row_problems import RowProblems
from shared.domain.contract.rows import LINE_MARK, ColumnBatch
from shared.domain.contract.schema import ColumnRule

__all__ = ["ColumnCheck"]


class ColumnCheck:
    """Checks the cells of the contract column `rule` (number `index`), recording problems."""

    def __init__(self, rule: ColumnRule, index: int, problems: RowProblems, sink: Callable | None = None):
        self.rule = rule
        self.sink = sink  # sink(valid values or None, cells, empty cells) for each checked batch
        self.sink_integers = getattr(sink, "integers_within", None) if rule.kind == "int" else None
        self.index = index
        self.problems = problems
        self.nulls = 0  # empty cells seen
        # Validity is a property of the cell text, so a low-cardinality column (counts, ages,
        # the label) is checked on its distinct values only, until it proves high-cardinality.
        self.distinct_only = True

    def check(self, cells: Sequence[str], batch: ColumnBatch) -> None:
        if not self._all_valid(cells, batch.clean):
            self._find_problems(cells, batch)

    def _all_valid(self, cells: Sequence[str], clean: bool) -> bool:
        """True when every cell is a valid, in-range, non-null number (checked at C speed)."""
        if not cells:
            return True
        rule = self.rule
        if self.sink_integers is not None and self.sink_integers(cells, rule.minimum, rule.maximum):
            return True
        if self.distinct_only:
            values = set(cells)
            if len(values) * 4 > len(cells):
                self.distinct_only = False
        else:
            values = cells
        vals = None
        if rule.kind == "int":
            try:
                vals = list(map(int, values))
            except ValueError:
                try:  # "3.0", "1e3": integral floats are accepted in int columns
                    fl = list(map(float, values))
                    if all(map(float.is_integer, fl)):
                        vals = fl
                except ValueError:
                    pass
            if vals is None:
                return False
        else:
            try:
                vals = list(map(float, values))
            except ValueError:
                return False
            if not math.isfinite(sum(vals)):
                return False
        if not clean:
            joined = "".join(values)
            if not joined.isascii() or "_" in joined:
                return False
        if rule.minimum is not None and min(vals) < rule.minimum:
            return False
        if rule.maximum is not None and max(vals) > rule.maximum:
            return False
        if self.sink is not None:
            self.sink(vals if values is cells else None, cells, 0)
        return True

    def _find_problems(self, cells: Sequence[str], batch: ColumnBatch) -> None:
        """Cell by cell: find and record each problem of this column in the batch."""
        rule = self.rule
        is_int = rule.kind == "int"
        lo, hi = rule.minimum, rule.maximum
        isfinite = math.isfinite
        ci = self.index
        problem = self.problems.add
        rownums, base = batch.row_numbers, batch.first_row
        good: list = []
        nulls_before = self.nulls
        for j, cell in enumerate(cells):
            row = rownums[j] if rownums is not None else base + j
            s = cell.strip()
            if cell[:1] == LINE_MARK:
                cell = cell[1:]
            if not s:
                self.nulls += 1
                if not rule.nullable:
                    problem("null_value", ci, row, cell)
                continue
            if not s.isascii() or "_" in s:
                problem("not_numeric", ci, row, cell)
                continue
            try:
                v = int(s) if is_int else float(s)
            except ValueError:
                try:
                    v = float(s)
                except ValueError:
                    problem("not_numeric", ci, row, cell)
                    continue
                if is_int and isfinite(v) and not v.is_integer():
                    problem("not_integer", ci, row, cell)
                    continue
            if isinstance(v, float) and not isfinite(v):
                problem("non_finite", ci, row, cell)
                continue
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                problem("out_of_range", ci, row, cell)
                continue
            good.append(v)
        if self.sink is not None:
            self.sink(good, cells, self.nulls - nulls_before)

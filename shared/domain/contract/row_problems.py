"""Row problems grouped by kind and column, so a column broken on a million rows gives one
precise `Problem` (first row, its value, a few more row numbers, the total count)."""
from __future__ import annotations

from shared.domain.contract.report import Problem
from shared.domain.contract.schema import ColumnRule

__all__ = ["RAGGED", "RowProblems"]

RAGGED = -1  # the column index of a ragged row: it belongs to no column
_SAMPLE_ROWS = 5  # row numbers quoted per grouped problem
_VALUE_CHARS = 40  # longest value quoted in a message


class _Group:
    """Occurrences of one (code, column) row problem."""

    __slots__ = ("code", "column", "col_index", "first_row", "first_value", "detail", "rows", "count")

    def __init__(self, code, column, col_index, row, value, detail):
        self.code = code
        self.column = column
        self.col_index = col_index
        self.first_row = row
        self.first_value = value
        self.detail = detail
        self.rows = [row]
        self.count = 0


class RowProblems:
    """The row problems found so far, one group per (code, column)."""

    def __init__(self, rules: tuple[ColumnRule, ...]):
        self.rules = rules
        self.groups: dict[tuple[str, int], _Group] = {}

    def add(self, code: str, col_index: int, row: int, value: str, detail=None) -> None:
        """One occurrence; `detail` is kept from the first (a ragged row's field counts)."""
        key = (code, col_index)
        g = self.groups.get(key)
        if g is None:
            column = self.rules[col_index].name if col_index >= 0 else None
            g = self.groups[key] = _Group(code, column, col_index, row, value, detail)
        elif len(g.rows) < _SAMPLE_ROWS:
            g.rows.append(row)
        g.count += 1

    def problems(self) -> list[Problem]:
        """One problem per group, in the order of their first rows."""
        groups = sorted(self.groups.values(), key=lambda g: (g.first_row, g.col_index))
        return [self._problem(g) for g in groups]

    def _problem(self, g: _Group) -> Problem:
        row, value = g.first_row, g.first_value
        if g.code == "ragged_row":
            got, expected = g.detail
            msg = f"row {row} has {got} fields, expected {expected} (as many as the header)"
            where = "rows"
        else:
            rule = self.rules[g.col_index]
            head = f"column '{rule.name}' row {row}"
            if g.code == "null_value":
                msg = f"{head}: empty value, but column '{rule.name}' does not allow nulls"
            elif g.code == "not_numeric":
                msg = f"{head}: value {_show(value)} is not a number (expected {rule.kind})"
            elif g.code == "not_integer":
                msg = f"{head}: value {_show(value)} is not an integer (column is int)"
            elif g.code == "non_finite":
                msg = f"{head}: value {_show(value)} is not a finite number"
            elif g.code == "out_of_range":
                msg = f"{head}: value {_show(value.strip())} is out of range {_range(rule)}"
            else:  # pragma: no cover
                msg = f"{head}: value {_show(value)} ({g.code})"
            where = f"rows of column '{rule.name}'"
        if g.count > 1:
            sample = ", ".join(str(r) for r in g.rows)
            more = ", ..." if g.count > len(g.rows) else ""
            msg += f"; {g.count} {where} have this problem (rows {sample}{more})"
        return Problem(g.code, msg, g.column, row, g.count)


def _show(value: str) -> str:
    """A cell value quoted for a message, truncated."""
    if len(value) > _VALUE_CHARS:
        value = value[: _VALUE_CHARS - 3] + "..."
    return repr(value)


def _num(x: float | None) -> str:
    if x is None:
        return "none"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _range(rule: ColumnRule) -> str:
    lo = "-inf" if rule.minimum is None else _num(rule.minimum)
    hi = "+inf" if rule.maximum is None else _num(rule.maximum)
    return f"[{lo}, {hi}]"

"""Complete lines of text to batches of columns, counting rows and finding ragged rows.

While the text contains no quote character (the normal case for numeric data) the lines are
split with str.split and the cells are transposed with C-level slicing (`plain`); once a
quote or a stray carriage return appears, the rest of the file goes through one persistent
`csv.reader` (`quoted`), which handles quoted fields spanning lines.
"""
from __future__ import annotations

import csv
import io
from itertools import chain, islice
from typing import Callable, Iterator, NamedTuple, Sequence

from shared.domain.contract.decoding import ReadStopped
from shared.domain.contract.report import Problem

__all__ = ["LINE_MARK", "ColumnBatch", "RowSplitter"]

LINE_MARK = "\v"  # marks line starts on the fast path (whitespace to int() and float())
_COMMA_MARK = "," + LINE_MARK
_BATCH_LINES = 16384  # rows per batch on the csv.reader path
_BLOCK_CHARS = 1024 * 1024  # text split into cells at once on the fast path


class ColumnBatch(NamedTuple):
    """The cells of a run of rows, column by column (in header order)."""

    columns: Sequence[Sequence[str]]
    first_row: int  # the row of each column's first cell, when `row_numbers` is None
    row_numbers: list[int] | None  # the row of each cell, when some rows were left out
    clean: bool  # all cells are known to be ASCII without "_"


class RowSplitter:
    """Cuts the lines after the header into column batches, handed to `on_batch` one by one
    (a batch is dropped before the next is made: memory stays at about one block).

    `on_ragged(row, line, field_count)` is told of each row with another number of fields
    than the header; such rows are left out of the batches, and so are blank lines.
    """

    def __init__(self, ncols: int, on_batch: Callable[[ColumnBatch], None],
                 on_ragged: Callable[[int, str, int], None]):
        self.ncols = ncols
        self.on_batch = on_batch
        self.on_ragged = on_ragged
        self.rows = 0  # non-blank data rows
        self.last_row = 0  # number of the last data record seen (blank records included)

    def plain(self, text: str) -> None:
        """Complete lines without quotes, cut into sub-blocks of about _BLOCK_CHARS."""
        clean = text.isascii() and "_" not in text
        pos, n = 0, len(text)
        while pos < n:
            end = text.find("\n", pos + _BLOCK_CHARS) if n - pos > _BLOCK_CHARS else -1
            end = n if end < 0 else end + 1
            self._plain_block(text[pos:end] if (pos or end < n) else text, clean)
            pos = end

    def _plain_block(self, text: str, clean: bool) -> None:
        """Split on commas; C-level alignment check instead of a per-line field count.

        Each line break becomes ",\\v" so one split gives all cells in row-major order and
        every line after the first starts with a "\\v" cell (int() and float() ignore that
        leading whitespace). All rows have exactly ncols fields iff the number of cells is
        lines * ncols and all the "\\v" marks sit in the first column.
        """
        nc = self.ncols
        nlines = text.count("\n")
        base = self.last_row + 1
        if LINE_MARK not in text:
            flat = text.replace("\n", _COMMA_MARK).split(",")
            flat.pop()  # the mark after the last line break
            if len(flat) == nlines * nc:
                cols = [flat[k::nc] for k in range(nc)]
                if nlines == 1 or "".join(cols[0]).count(LINE_MARK) == nlines - 1:
                    del flat
                    self.last_row += nlines
                    self.rows += nlines
                    self.on_batch(ColumnBatch(cols, base, None, clean))
                    return
            del flat
        # blank or ragged lines somewhere (or a "\v" in the data): line by line
        lines = text.split("\n")
        lines.pop()
        self.last_row += nlines
        good, rownums = [], []
        for j, line in enumerate(lines):
            if not line.strip():
                continue  # blank line
            self.rows += 1
            fields = line.split(",")
            if len(fields) != nc:
                self.on_ragged(base + j, line, len(fields))
            else:
                good.append(fields)
                rownums.append(base + j)
        if good:
            self.on_batch(ColumnBatch([list(c) for c in zip(*good)], base, rownums, clean))

    def quoted(self, texts: Iterator[str]) -> None:
        """The general path: one csv.reader over all remaining lines."""
        reader = csv.reader(chain.from_iterable(map(io.StringIO, texts)))
        first_row = self.last_row + 1  # row of the reader's line 1 (exact without multi-line fields)
        nc = self.ncols
        want = {nc}
        while True:
            base = self.last_row + 1
            try:
                batch = list(islice(reader, _BATCH_LINES))
            except csv.Error as e:
                row = first_row + reader.line_num - 1
                raise ReadStopped(Problem("malformed_csv", f"row {row}: malformed CSV ({e})", None, row)) from None
            if not batch:
                return
            self.last_row += len(batch)
            if set(map(len, batch)) == want:
                self.rows += len(batch)
                self.on_batch(ColumnBatch(list(zip(*batch)), base, None, False))
                continue
            good, rownums = [], []
            for j, fields in enumerate(batch):
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue
                self.rows += 1
                if len(fields) != nc:
                    self.on_ragged(base + j, ",".join(fields), len(fields))
                else:
                    good.append(fields)
                    rownums.append(base + j)
            if good:
                self.on_batch(ColumnBatch(list(zip(*good)), base, rownums, False))

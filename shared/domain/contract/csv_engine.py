"""May this CSV file be used for training? `validate_csv` answers, streaming.

The file comes as an iterable of byte chunks (CHUNK_SIZE blocks from a blob download or a
file) and no more than about a chunk of it is held in memory, so a 1 GB+ file is checked
with bounded memory. The sha256 of the bytes, which the service uses as the batch identity,
is computed on the way.

The jobs: `decoding` turns bytes into text of complete lines, `header` checks the header,
`rows` cuts the lines into column batches, `columns` checks each column's cells and
`row_problems` groups what it finds. Problems of the same kind in the same column are
grouped into one `Problem` entry; `problem_count` counts every single occurrence.

An optional `observer` (the drift package's FileProfiler) sees the same pass: the checker of
contract column i hands `observer.sink_for(i)` its checked values, and each batch of rows
goes to `observer.rows(columns, positions)`. Its result is only meaningful for an accepted file.
"""
from __future__ import annotations

import csv
from itertools import chain
from typing import Iterable, Iterator

from shared.domain.contract.columns import ColumnCheck
from shared.domain.contract.decoding import LineDecoder, NotUtf8, ReadStopped
from shared.domain.contract.header import header_problems
from shared.domain.contract.report import Problem, ValidationReport
from shared.domain.contract.row_problems import RAGGED, RowProblems
from shared.domain.contract.rows import ColumnBatch, RowSplitter
from shared.domain.contract.schema import DIABETES_CONTRACT, DataContract

__all__ = ["CHUNK_SIZE", "validate_csv"]

CHUNK_SIZE = 4 * 1024 * 1024


def validate_csv(
    chunks: Iterable[bytes],
    contract: DataContract = DIABETES_CONTRACT,
    declared_size: int | None = None,
    observer=None,
) -> ValidationReport:
    """Validate a CSV file given as byte chunks against `contract`, streaming.

    `declared_size` (the blob's size, when known) is checked before reading anything, and
    against the bytes read at the end. `observer`: see the module docstring.
    """
    return _Validation(contract, observer).run(chunks, declared_size)


class _Validation:
    def __init__(self, contract: DataContract, observer=None):
        self.contract = contract
        self.observer = observer
        self.decoder = LineDecoder(contract.max_bytes, contract.max_line_bytes, self._next_row)
        self.row_problems = RowProblems(contract.columns)
        self.checks = [ColumnCheck(rule, i, self.row_problems, observer.sink_for(i) if observer else None)
                       for i, rule in enumerate(contract.columns)]
        self.splitter: RowSplitter | None = None  # made once the header is read
        self.file_problems: list[Problem] = []  # fatal, stop reading
        self.header_problems: list[Problem] = []
        self.positions: list[int] = []  # header index of each contract column

    @property
    def header_seen(self) -> bool:
        return self.splitter is not None

    def _next_row(self) -> int:
        """The number of the row being read (0 for the header)."""
        return self.splitter.last_row + 1 if self.splitter is not None else 0

    def run(self, chunks: Iterable[bytes], declared_size: int | None) -> ValidationReport:
        c = self.contract
        if declared_size is not None and declared_size > c.max_bytes:
            self.file_problems.append(
                Problem(
                    "too_large",
                    f"file is too large: declared size {declared_size:,} bytes exceeds the limit of "
                    f"{c.max_bytes:,} bytes (nothing was read)",
                )
            )
            return self._report(stopped=True)
        stopped = False
        try:
            self._consume(self.decoder.texts(chunks))
        except ReadStopped as stop:
            self.file_problems.append(stop.problem)
            stopped = True
        except NotUtf8 as bad:
            self._consume_lines_before(bad)
            self.file_problems.append(bad.problem(self._next_row()))
            stopped = True
        stopped = stopped or bool(self.header_problems)
        bytes_read = self.decoder.bytes_read
        if not stopped and declared_size is not None and declared_size != bytes_read:
            self.file_problems.append(
                Problem(
                    "size_mismatch",
                    f"declared size {declared_size:,} bytes but {bytes_read:,} bytes were read "
                    "(truncated or changed while reading?)",
                )
            )
        return self._report(stopped=stopped)

    def _consume_lines_before(self, bad: NotUtf8) -> None:
        """The complete lines in front of a bad byte are still checked."""
        try:
            if bad.good_text:
                self._consume(iter([bad.good_text]))
        except ReadStopped as stop:
            self.file_problems.append(stop.problem)

    def _consume(self, texts: Iterator[str]) -> None:
        text = ""
        if not self.header_seen:
            for text in texts:
                text = self._header(text)
                if text is not None:
                    break
            else:
                return
            if self.header_problems:
                return
        splitter = self.splitter
        # fast path while there are no quotes / stray CRs, then csv.reader for the rest
        for text in chain([text], texts):
            if '"' in text or "\r" in text:
                splitter.quoted(chain([text], texts))
                return
            splitter.plain(text)

    def _header(self, text: str) -> str | None:
        """Parse the header from the first non-blank line; return the text after it."""
        pos = 0
        while True:
            end = text.find("\n", pos)
            if end < 0:
                return None  # only blank lines so far
            line = text[pos:end]
            if line.strip():
                break
            pos = end + 1
        names = next(csv.reader([line])) if '"' in line else line.split(",")
        self.splitter = RowSplitter(len(names), self._check, self._ragged)
        self.header_problems = header_problems(names, self.contract.names)
        if not self.header_problems:
            self.positions = [names.index(n) for n in self.contract.names]
        return text[end + 1 :]

    def _ragged(self, row: int, line: str, field_count: int) -> None:
        self.row_problems.add("ragged_row", RAGGED, row, line, (field_count, self.splitter.ncols))

    def _check(self, batch: ColumnBatch) -> None:
        columns = batch.columns
        for check, position in zip(self.checks, self.positions):
            check.check(columns[position], batch)
        if self.observer is not None:
            self.observer.rows(columns, self.positions)

    def _report(self, stopped: bool) -> ValidationReport:
        c = self.contract
        rows = self.splitter.rows if self.splitter is not None else 0
        bytes_read = self.decoder.bytes_read
        problems = list(self.file_problems) + list(self.header_problems)
        if not stopped:
            if bytes_read == 0:
                problems.append(Problem("empty", "file is empty (0 bytes)"))
            elif not self.header_seen:
                problems.append(Problem("empty", f"file has no header row (only {bytes_read:,} bytes of blank lines)"))
            elif rows == 0:
                problems.append(Problem("header_only", "file has a header but no data rows", row=0))
            elif rows < c.min_rows:
                problems.append(
                    Problem("too_few_rows", f"file has {rows:,} data rows, fewer than the minimum of {c.min_rows:,}")
                )
        problems.extend(self.row_problems.problems())
        if not stopped and rows:
            problems.extend(self._null_shares(rows))
        return ValidationReport(
            accepted=not problems,
            rows=rows,
            bytes_read=bytes_read,
            problems=tuple(problems[: max(c.max_problems, 1)]),
            problem_count=sum(p.count for p in problems),
            sha256=self.decoder.hash.hexdigest(),
        )

    def _null_shares(self, rows: int) -> Iterator[Problem]:
        """Nullable columns with more empty values than the contract allows."""
        limit = self.contract.max_null_share
        for check in self.checks:
            rule, nulls = check.rule, check.nulls
            if rule.nullable and nulls and nulls / rows > limit:
                yield Problem(
                    "null_share",
                    f"column '{rule.name}': {nulls / rows:.1%} of values are empty "
                    f"({nulls:,} of {rows:,} rows), above the limit of {limit:.1%}",
                    rule.name,
                    None,
                    1,
                )

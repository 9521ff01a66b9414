"""The data contract: may this CSV file be used for training?

Pure core: standard library only. `validate_csv` streams the file as an iterable of byte
chunks (4 MB blocks from a blob download or a file) and never holds more than about a
chunk of it in memory, so a 1 GB+ file is checked with bounded memory. While streaming it
computes the sha256 of the bytes, which the service uses as the batch identity.

How the rows are checked fast in pure Python:

* bytes are cut at the last b"\\n" of each chunk (0x0A never occurs inside a multi-byte
  UTF-8 sequence) and only complete lines are decoded, strictly, as UTF-8; the partial
  last line is carried to the next chunk;
* while the text contains no quote character (the normal case for numeric data) the lines
  are split with str.split and the cells are transposed with C-level slicing;
  once a quote or a stray carriage return appears the rest of the file goes through
  one persistent `csv.reader` (which handles quoted fields spanning lines);
* each column of a batch of rows is converted at C speed (`list(map(int, column))`) and
  range-checked with min()/max(); a low-cardinality column (counts, ages, the label) is
  converted on its distinct values only (`set(column)`), since validity depends only on
  the cell text. Only a column-batch that fails the fast check is walked cell by cell to
  find and describe the exact problems.

Problems of the same kind in the same column are grouped into one `Problem` entry (first
row, its value, a few more row numbers, and the total `count`), so a column that is broken
on a million rows gives one precise line instead of a million. `problem_count` counts
every single occurrence.
"""
from __future__ import annotations

import csv
import difflib
import hashlib
import io
import math
import re
from dataclasses import dataclass
from itertools import chain, islice
from typing import Iterable, Iterator, Literal

__all__ = [
    "ColumnRule",
    "DataContract",
    "DIABETES_CONTRACT",
    "Problem",
    "ValidationReport",
    "validate_csv",
    "read_file_chunks",
]

CHUNK_SIZE = 4 * 1024 * 1024
_BATCH_LINES = 16384  # rows per batch on the csv.reader path
_BLOCK_CHARS = 1024 * 1024  # text split into cells at once on the fast path
_MARK = "\v"  # marks line starts on the fast path (whitespace to int() and float())
_COMMA_MARK = "," + _MARK
_SAMPLE_ROWS = 5  # row numbers quoted per grouped problem
_VALUE_CHARS = 40  # longest value quoted in a message


@dataclass(frozen=True)
class ColumnRule:
    name: str
    kind: Literal["int", "float"]
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = True


@dataclass(frozen=True)
class DataContract:
    columns: tuple[ColumnRule, ...]
    min_rows: int = 100
    max_null_share: float = 0.05
    max_bytes: int = 2 * 1024**3
    max_problems: int = 20
    # A line (no line break found) longer than this stops validation: it bounds memory on
    # files that are not line-oriented CSV at all.
    max_line_bytes: int = 1024 * 1024

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


# Ranges are plausible physical limits; the real files (dev 5,000 and prod 10,000 rows)
# lie well inside them: PatientID 1000038..1999997, Pregnancies 0..14, PlasmaGlucose
# 44..192, DiastolicBloodPressure 24..117, TricepsThickness 7..93, SerumInsulin 14..799,
# BMI 18.2..56.0, DiabetesPedigree 0.078..2.30, Age 21..77, Diabetic 0/1; no nulls.
DIABETES_CONTRACT = DataContract(
    columns=(
        ColumnRule("PatientID", "int", minimum=1, nullable=False),
        ColumnRule("Pregnancies", "int", minimum=0, maximum=30),
        ColumnRule("PlasmaGlucose", "int", minimum=0, maximum=400),
        ColumnRule("DiastolicBloodPressure", "int", minimum=0, maximum=250),
        ColumnRule("TricepsThickness", "int", minimum=0, maximum=150),
        ColumnRule("SerumInsulin", "int", minimum=0, maximum=2000),
        ColumnRule("BMI", "float", minimum=5, maximum=100),
        ColumnRule("DiabetesPedigree", "float", minimum=0, maximum=5),
        ColumnRule("Age", "int", minimum=0, maximum=120),
        ColumnRule("Diabetic", "int", minimum=0, maximum=1, nullable=False),
    )
)


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    column: str | None = None
    row: int | None = None  # 1-based data row (header is row 0); first occurrence
    count: int = 1  # occurrences this entry stands for (grouped row problems)

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "column": self.column, "row": self.row, "count": self.count}


@dataclass(frozen=True)
class ValidationReport:
    accepted: bool
    rows: int
    bytes_read: int
    problems: tuple[Problem, ...]
    problem_count: int
    sha256: str

    def summary(self) -> str:
        if self.accepted:
            return f"accepted: {self.rows} rows"
        if not self.problems:  # cannot happen, kept total
            return f"rejected: {self.problem_count} problems"
        first = self.problems[0]
        more = self.problem_count - first.count
        return f"rejected: {first.message}" + (f" (+{more} more)" if more > 0 else "")

    def to_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "rows": self.rows,
            "bytes_read": self.bytes_read,
            "sha256": self.sha256,
            "problem_count": self.problem_count,
            "problems": [p.to_dict() for p in self.problems],
            "summary": self.summary(),
        }


def read_file_chunks(path, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The bytes of a local file in chunks (for tests, benchmarks and local runs)."""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(chunk_size)
            if not chunk:
                return
            yield chunk


def validate_csv(
    chunks: Iterable[bytes],
    contract: DataContract = DIABETES_CONTRACT,
    declared_size: int | None = None,
) -> ValidationReport:
    """Validate a CSV file given as byte chunks against `contract`, streaming."""
    return _Validation(contract).run(chunks, declared_size)


# ---------------------------------------------------------------------------------------


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


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name).lower()


def _pair_renames(missing: list[str], extra: list[str]) -> list[tuple[str, str]]:
    """(expected, found) pairs where a found column is most likely a renamed expected one."""
    scored = []
    for m in missing:
        for e in extra:
            nm, ne = _norm(m), _norm(e)
            if nm == ne:
                score = 1.0
            elif min(len(nm), len(ne)) >= 3 and (nm in ne or ne in nm):
                score = 0.9
            else:
                score = difflib.SequenceMatcher(None, nm, ne).ratio()
                if score < 0.75:
                    continue
            scored.append((score, m, e))
    scored.sort(key=lambda t: -t[0])
    pairs, used_m, used_e = [], set(), set()
    for _, m, e in scored:
        if m not in used_m and e not in used_e:
            used_m.add(m)
            used_e.add(e)
            pairs.append((m, e))
    return pairs


class _Stop(Exception):
    """Reading stops (too large, not UTF-8, malformed)."""


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


class _Validation:
    def __init__(self, contract: DataContract):
        self.contract = contract
        self.rules = contract.columns
        self.hash = hashlib.sha256()
        self.bytes_read = 0
        self.rows = 0  # non-blank data rows
        self.last_row = 0  # number of the last data record seen (blank records included)
        self.header_seen = False
        self.file_problems: list[Problem] = []  # fatal, stop reading
        self.header_problems: list[Problem] = []
        self.groups: dict[tuple[str, int], _Group] = {}
        self.nulls = [0] * len(self.rules)
        self.distinct = [True] * len(self.rules)  # check distinct values only (low cardinality)
        self.positions: list[int] = []  # header index of each contract column
        self.ncols = 0

    # -- problems ----------------------------------------------------------------------

    def _row_problem(self, code: str, ci: int, row: int, value: str, detail=None) -> None:
        key = (code, ci)
        g = self.groups.get(key)
        if g is None:
            column = self.rules[ci].name if ci >= 0 else None
            g = self.groups[key] = _Group(code, column, ci, row, value, detail)
        elif len(g.rows) < _SAMPLE_ROWS:
            g.rows.append(row)
        g.count += 1

    def _group_problem(self, g: _Group) -> Problem:
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

    def _stop(self, code: str, message: str, row: int | None = None) -> None:
        self.file_problems.append(Problem(code, message, None, row))
        raise _Stop

    # -- bytes -> text -----------------------------------------------------------------

    def _texts(self, chunks: Iterable[bytes]) -> Iterator[str]:
        """Decoded text made of complete lines (each ends with '\\n'), CRLF turned to LF."""
        max_bytes = self.contract.max_bytes
        max_line = self.contract.max_line_bytes
        parts: list[bytes] = []  # the pending partial line
        pending = 0
        start = 0  # byte offset of the pending partial line
        first = True
        for chunk in chunks:
            if not chunk:
                continue
            self.hash.update(chunk)
            self.bytes_read += len(chunk)
            if self.bytes_read > max_bytes:
                self._stop(
                    "too_large",
                    f"file is too large: more than the limit of {max_bytes:,} bytes "
                    f"(stopped reading after {self.bytes_read:,} bytes)",
                )
            cut = chunk.rfind(b"\n")
            if cut < 0:
                parts.append(chunk)
                pending += len(chunk)
                if pending > max_line:
                    self._stop(
                        "line_too_long",
                        f"row {self.last_row + 1 if self.header_seen else 0}: no line break in "
                        f"{pending:,} bytes (limit {max_line:,} bytes per line); "
                        "is this a CSV file with \\n or \\r\\n line endings?",
                        self.last_row + 1 if self.header_seen else 0,
                    )
                continue
            if parts:
                cut += pending
                parts.append(chunk)
                buf = b"".join(parts)
            else:
                buf = chunk
            text = self._decode(buf, cut + 1, start)
            rest = buf[cut + 1 :]
            parts = [rest] if rest else []
            pending = len(rest)
            start += cut + 1
            if first:
                first = False
                if text.startswith("\ufeff"):
                    text = text[1:]
            if "\r" in text:
                text = text.replace("\r\n", "\n")
            yield text
        if pending:
            buf = b"".join(parts)
            text = self._decode(buf, len(buf), start)
            if first and text.startswith("\ufeff"):
                text = text[1:]
            if "\r" in text:
                text = text.replace("\r\n", "\n")
                if text.endswith("\r"):
                    text = text[:-1]
            yield text + "\n"

    def _decode(self, buf: bytes, end: int, start: int) -> str:
        try:
            return str(memoryview(buf)[:end], "utf-8")
        except UnicodeDecodeError as e:
            self._bad_utf8 = (start + e.start, buf[e.start : e.start + 1], e.reason)
            # the complete lines before the bad byte are still checked, then reading stops
            good = buf.rfind(b"\n", 0, e.start) + 1
            self._good_text = str(memoryview(buf)[:good], "utf-8")
            raise _Stop from None

    # -- driver ------------------------------------------------------------------------

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
        self._bad_utf8 = None
        self._good_text = ""
        texts = self._texts(chunks)
        stopped = False
        try:
            self._consume(texts)
        except _Stop:
            stopped = True
        if self._bad_utf8 is not None:
            # first check the complete lines in front of the bad byte
            try:
                if self._good_text:
                    self._consume(iter([self._good_text]))
            except _Stop:
                pass
            offset, byte, reason = self._bad_utf8
            row = self.last_row + 1 if self.header_seen else 0
            self.file_problems.append(
                Problem(
                    "not_utf8",
                    f"file is not valid UTF-8: byte 0x{byte.hex()} at byte offset {offset:,} "
                    f"(row {row}) cannot be decoded ({reason}); save the file as UTF-8",
                    None,
                    row,
                )
            )
        stopped = stopped or bool(self.header_problems)
        if not stopped and declared_size is not None and declared_size != self.bytes_read:
            self.file_problems.append(
                Problem(
                    "size_mismatch",
                    f"declared size {declared_size:,} bytes but {self.bytes_read:,} bytes were read "
                    "(truncated or changed while reading?)",
                )
            )
        return self._report(stopped=stopped)

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
        # fast path while there are no quotes / stray CRs, then csv.reader for the rest
        for text in chain([text], texts):
            if '"' in text or "\r" in text:
                self._csv_rows(chain([text], texts))
                return
            self._plain_lines(text)

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
        self.header_seen = True
        self.ncols = len(names)
        self._check_header(names)
        return text[end + 1 :]

    def _check_header(self, names: list[str]) -> None:
        expected = [r.name for r in self.rules]
        seen: dict[str, int] = {}
        for n in names:
            seen[n] = seen.get(n, 0) + 1
        dups = [n for n, k in seen.items() if k > 1]
        problems = []
        if dups:
            listed = ", ".join(f"'{n}' ({seen[n]} times)" for n in dups)
            problems.append(Problem("duplicate_columns", f"duplicate column names in the header: {listed}", row=0))
        missing = [n for n in expected if n not in seen]
        extra = [n for n in seen if n not in set(expected)]
        for m, e in _pair_renames(missing, extra):
            problems.append(Problem("renamed_column", f"column '{m}' appears renamed to '{e}'", m, 0))
            missing.remove(m)
            extra.remove(e)
        if missing:
            listed = ", ".join(f"'{n}'" for n in missing)
            problems.append(
                Problem(
                    "missing_columns",
                    f"missing columns: {listed} (the header has: {', '.join(repr(n) for n in names)})",
                    missing[0] if len(missing) == 1 else None,
                    0,
                )
            )
        if extra:
            listed = ", ".join(f"'{n}'" for n in extra)
            problems.append(
                Problem(
                    "extra_columns",
                    f"unexpected columns: {listed} (the contract has: {', '.join(expected)})",
                    extra[0] if len(extra) == 1 else None,
                    0,
                )
            )
        self.header_problems = problems
        if not problems:
            self.positions = [names.index(n) for n in expected]

    # -- rows --------------------------------------------------------------------------

    def _plain_lines(self, text: str) -> None:
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

        Each line break becomes ",\v" so one split gives all cells in row-major order and
        every line after the first starts with a "\v" cell (int() and float() ignore that
        leading whitespace). All rows have exactly ncols fields iff the number of cells is
        lines * ncols and all the "\v" marks sit in the first column.
        """
        nc = self.ncols
        nlines = text.count("\n")
        base = self.last_row + 1
        if _MARK not in text:
            flat = text.replace("\n", _COMMA_MARK).split(",")
            flat.pop()  # the mark after the last line break
            if len(flat) == nlines * nc:
                cols = [flat[k::nc] for k in range(nc)]
                if nlines == 1 or "".join(cols[0]).count(_MARK) == nlines - 1:
                    del flat
                    self.last_row += nlines
                    self.rows += nlines
                    self._columns(cols, base, None, clean)
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
                self._row_problem("ragged_row", -1, base + j, line, (len(fields), nc))
            else:
                good.append(fields)
                rownums.append(base + j)
        if good:
            self._columns([list(c) for c in zip(*good)], base, rownums, clean)

    def _csv_rows(self, texts: Iterator[str]) -> None:
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
                self._stop("malformed_csv", f"row {row}: malformed CSV ({e})", row)
            if not batch:
                return
            self.last_row += len(batch)
            if set(map(len, batch)) == want:
                self.rows += len(batch)
                self._columns(list(zip(*batch)), base, None, False)
            else:
                good, rownums = [], []
                for j, fields in enumerate(batch):
                    if not fields or (len(fields) == 1 and not fields[0].strip()):
                        continue
                    self.rows += 1
                    if len(fields) != nc:
                        self._row_problem("ragged_row", -1, base + j, ",".join(fields), (len(fields), nc))
                    else:
                        good.append(fields)
                        rownums.append(base + j)
                if good:
                    self._columns(list(zip(*good)), base, rownums, False)

    def _columns(self, cols, base: int, rownums: list[int] | None, clean: bool) -> None:
        for ci, rule in enumerate(self.rules):
            col = cols[self.positions[ci]]
            if not self._fast_ok(ci, col, rule, clean):
                self._slow(ci, rule, col, base, rownums)

    def _fast_ok(self, ci: int, col, rule: ColumnRule, clean: bool) -> bool:
        """True when every cell is a valid, in-range, non-null number (checked at C speed).

        Validity is a property of the cell text, so a low-cardinality column (counts,
        ages, the label) is checked on its distinct values only; a column found to be
        high-cardinality once is converted in full from then on.
        """
        if not col:
            return True
        if self.distinct[ci]:
            values = set(col)
            if len(values) * 4 > len(col):
                self.distinct[ci] = False
        else:
            values = col
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
        return True

    def _slow(self, ci: int, rule: ColumnRule, col, base: int, rownums: list[int] | None) -> None:
        """Cell by cell: find and record each problem of one column of a batch."""
        is_int = rule.kind == "int"
        lo, hi = rule.minimum, rule.maximum
        isfinite = math.isfinite
        problem = self._row_problem
        for j, cell in enumerate(col):
            row = rownums[j] if rownums is not None else base + j
            s = cell.strip()
            if cell[:1] == _MARK:
                cell = cell[1:]
            if not s:
                self.nulls[ci] += 1
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

    # -- report ------------------------------------------------------------------------

    def _report(self, stopped: bool) -> ValidationReport:
        c = self.contract
        problems = list(self.file_problems) + list(self.header_problems)
        if not stopped:
            if self.bytes_read == 0:
                problems.append(Problem("empty", "file is empty (0 bytes)"))
            elif not self.header_seen:
                problems.append(Problem("empty", f"file has no header row (only {self.bytes_read:,} bytes of blank lines)"))
            elif self.rows == 0:
                problems.append(Problem("header_only", "file has a header but no data rows", row=0))
            elif self.rows < c.min_rows:
                problems.append(
                    Problem("too_few_rows", f"file has {self.rows:,} data rows, fewer than the minimum of {c.min_rows:,}")
                )
        groups = sorted(self.groups.values(), key=lambda g: (g.first_row, g.col_index))
        problems.extend(self._group_problem(g) for g in groups)
        if not stopped and self.rows:
            for ci, rule in enumerate(self.rules):
                nulls = self.nulls[ci]
                if rule.nullable and nulls and nulls / self.rows > c.max_null_share:
                    problems.append(
                        Problem(
                            "null_share",
                            f"column '{rule.name}': {nulls / self.rows:.1%} of values are empty "
                            f"({nulls:,} of {self.rows:,} rows), above the limit of {c.max_null_share:.1%}",
                            rule.name,
                            None,
                            1,
                        )
                    )
        total = sum(p.count for p in problems)
        return ValidationReport(
            accepted=not problems,
            rows=self.rows,
            bytes_read=self.bytes_read,
            problems=tuple(problems[: max(c.max_problems, 1)]),
            problem_count=total,
            sha256=self.hash.hexdigest(),
        )

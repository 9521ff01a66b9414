"""What both CapturedInputs adapters need: whole lines out of byte chunks, and rows written out
as CSV of the model's input columns in chunks of bounded size."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Iterable, Iterator, Sequence

from shared.domain.errors import InvalidInput

MAX_LINE_BYTES = 8 * 1024 * 1024  # the data collector keeps a payload over 4 MB out of line


def hour_text(hour: datetime) -> str:
    """A segment's hour as the port writes it: "2026-12-02T05:00:00Z"."""
    return hour.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:00:00Z")


def since_hour(since: str | None) -> datetime | None:
    """The UTC hour a `segments(since=...)` argument falls in; InvalidInput unless ISO-8601 with a zone."""
    if since is None:
        return None
    try:
        moment = datetime.fromisoformat(since)
    except (TypeError, ValueError):
        raise InvalidInput(f"since must be an ISO-8601 time, got {str(since)[:40]!r}") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"since must name its time zone (UTC: ...Z), got {since[:40]!r}")
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def whole_lines(chunks: Iterable[bytes], max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[bytes, bool]]:
    """(line without its line break, whether it had one) for each line, a line split across
    chunks joined; a line longer than `max_line_bytes` comes out as b"" (the caller counts it)
    while its bytes are skipped, so memory stays bounded by a chunk and one line."""
    pending, oversized = bytearray(), False
    for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            if oversized:
                oversized = False
                yield b"", True
            else:
                pending += chunk[start:end]
                yield bytes(pending), True
            pending.clear()
            start = end + 1
        if not oversized:
            pending += chunk[start:]
            if len(pending) > max_line_bytes:
                pending.clear()
                oversized = True
    if oversized:
        yield b"", False
    elif pending:
        yield bytes(pending), False


class CsvChunks:
    """Rows in, CSV bytes out (header first) in chunks of about `chunk_size` bytes."""

    def __init__(self, columns: Sequence[str], chunk_size: int):
        self.columns = list(columns)
        self.chunk_size = chunk_size
        self._out = io.StringIO()
        self._writer = csv.writer(self._out, lineterminator="\n")
        self._writer.writerow(self.columns)

    def add(self, rows: Iterable[Sequence]) -> bytes | None:
        """Take rows; a full chunk when one is ready, else None."""
        self._writer.writerows(rows)
        return self._take() if self._out.tell() >= self.chunk_size else None

    def rest(self) -> bytes | None:
        """What is left (None when nothing is)."""
        return self._take() or None

    def _take(self) -> bytes:
        data = self._out.getvalue().encode()
        self._out.seek(0)
        self._out.truncate()
        return data


def projection(header: Sequence[str], columns: Sequence[str]) -> list[int | None]:
    """For each of `columns`, its position in `header` (None: not there, an empty cell)."""
    where = {name: i for i, name in enumerate(header)}
    return [where.get(name) for name in columns]


def projected(row: Sequence[str], positions: Sequence[int | None]) -> list[str]:
    return [row[i] if i is not None and i < len(row) else "" for i in positions]

"""Byte chunks to text made of complete lines, with bounded memory.

Bytes are cut at the last b"\\n" of each chunk (0x0A never occurs inside a multi-byte UTF-8
sequence) and only complete lines are decoded, strictly, as UTF-8; the partial last line is
carried to the next chunk. Every byte is hashed (sha256) and counted on the way.
"""
from __future__ import annotations

import hashlib
from typing import Callable, Iterable, Iterator

from shared.domain.contract.report import Problem

__all__ = ["LineDecoder", "NotUtf8", "ReadStopped"]


class ReadStopped(Exception):
    """Reading stops (too large, a line without end, malformed CSV); `problem` says why."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


class NotUtf8(Exception):
    """A byte that is not UTF-8: reading stops after the complete lines in front of it."""

    def __init__(self, offset: int, byte: bytes, reason: str, good_text: str):
        super().__init__(reason)
        self.offset = offset
        self.byte = byte
        self.reason = reason
        self.good_text = good_text  # the complete lines before the bad byte, still to check

    def problem(self, row: int) -> Problem:
        return Problem(
            "not_utf8",
            f"file is not valid UTF-8: byte 0x{self.byte.hex()} at byte offset {self.offset:,} "
            f"(row {row}) cannot be decoded ({self.reason}); save the file as UTF-8",
            None,
            row,
        )


class LineDecoder:
    """Text of complete lines (each ends with '\\n', CRLF turned to LF) from byte chunks.

    `next_row` gives the number of the row being read, for the messages of a stop.
    """

    def __init__(self, max_bytes: int, max_line_bytes: int, next_row: Callable[[], int]):
        self.max_bytes = max_bytes
        self.max_line_bytes = max_line_bytes
        self.next_row = next_row
        self.hash = hashlib.sha256()
        self.bytes_read = 0

    def texts(self, chunks: Iterable[bytes]) -> Iterator[str]:
        max_line = self.max_line_bytes
        parts: list[bytes] = []  # the pending partial line
        pending = 0
        start = 0  # byte offset of the pending partial line
        first = True
        for chunk in chunks:
            if not chunk:
                continue
            self._count(chunk)
            cut = chunk.rfind(b"\n")
            if cut < 0:
                parts.append(chunk)
                pending += len(chunk)
                if pending > max_line:
                    row = self.next_row()
                    raise ReadStopped(Problem(
                        "line_too_long",
                        f"row {row}: no line break in {pending:,} bytes (limit {max_line:,} bytes per line); "
                        "is this a CSV file with \\n or \\r\\n line endings?",
                        None,
                        row,
                    ))
                continue
            if parts:
                cut += pending
                parts.append(chunk)
                buf = b"".join(parts)
            else:
                buf = chunk
            text = _decode(buf, cut + 1, start)
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
            text = _decode(buf, len(buf), start)
            if first and text.startswith("\ufeff"):
                text = text[1:]
            if "\r" in text:
                text = text.replace("\r\n", "\n")
                if text.endswith("\r"):
                    text = text[:-1]
            yield text + "\n"

    def _count(self, chunk: bytes) -> None:
        self.hash.update(chunk)
        self.bytes_read += len(chunk)
        if self.bytes_read > self.max_bytes:
            raise ReadStopped(Problem(
                "too_large",
                f"file is too large: more than the limit of {self.max_bytes:,} bytes "
                f"(stopped reading after {self.bytes_read:,} bytes)",
            ))


def _decode(buf: bytes, end: int, start: int) -> str:
    """The first `end` bytes of `buf` (which starts at byte offset `start` of the file)."""
    try:
        return str(memoryview(buf)[:end], "utf-8")
    except UnicodeDecodeError as e:
        good = buf.rfind(b"\n", 0, e.start) + 1
        raise NotUtf8(start + e.start, buf[e.start : e.start + 1], e.reason, str(memoryview(buf)[:good], "utf-8")) from None

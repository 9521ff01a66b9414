"""A deployment's captured live inputs as one CSV stream over its capture segments."""
from __future__ import annotations

import csv
import io
from typing import Iterable, Iterator

from shared.ports import CapturedInputs


def captured_csv(captures: CapturedInputs | None, endpoint: str, deployment: str, since: str | None = None,
                 newest_first: bool = False) -> Iterator[bytes]:
    """The rows of every segment (hours before `since` left out) as CSV chunks under one header,
    oldest hour first or, with `newest_first`, the newest hour first (a reader that stops after
    n rows then gets the most recent ones). Segments are read one after the other, as the stream
    is consumed: nothing when there is nothing captured (or no capture port)."""
    if captures is None:
        return
    segments = captures.segments(endpoint, deployment, since)
    header: bytes | None = None
    for segment in reversed(segments) if newest_first else segments:
        chunks = iter(captures.read(segment))
        first, rest = _split_header(chunks)
        if first is None:
            continue
        if header is None:
            header = first
            yield first + b"\n"
        if first == header:
            if rest:
                yield rest
            yield from chunks
        else:  # not the first segment's columns: its rows in those
            yield from _in_columns(first, rest, chunks, header)


def _split_header(chunks: Iterator[bytes]) -> tuple[bytes | None, bytes]:
    """(the header line without its line break, what follows it in the chunks read so far)."""
    head = b""
    for chunk in chunks:
        head += chunk
        cut = head.find(b"\n")
        if cut != -1:
            return head[:cut], head[cut + 1:]
    return (head or None), b""


def _in_columns(first: bytes, rest: bytes, chunks: Iterable[bytes], header: bytes) -> Iterator[bytes]:
    own = next(csv.reader([first.decode("utf-8")]))
    wanted = next(csv.reader([header.decode("utf-8")]))
    where = {name: i for i, name in enumerate(own)}
    positions = [where.get(name) for name in wanted]
    text = io.TextIOWrapper(io.BufferedReader(_Chunks([rest], chunks)), encoding="utf-8", newline="")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(text):
        writer.writerow(row[i] if i is not None and i < len(row) else "" for i in positions)
        if out.tell() >= 1 << 20:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue().encode()


class _Chunks(io.RawIOBase):
    """Byte chunks read as a file."""

    def __init__(self, *sources: Iterable[bytes]):
        self._chunks = (chunk for source in sources for chunk in source)
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._left:
            self._left = next(self._chunks, None)
            if self._left is None:
                self._left = b""
                return 0
        n = min(len(buffer), len(self._left))
        buffer[:n], self._left = self._left[:n], self._left[n:]
        return n

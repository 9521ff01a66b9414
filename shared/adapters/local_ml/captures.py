"""CapturedInputs on the local router's captures: one CSV file per deployment and hour
(`emulator_formats.endpoint_state`), written by `emulators.local_ml.input_capture`."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator, Sequence

from emulator_formats import endpoint_state
from shared.adapters.capture_rows import (
    MAX_LINE_BYTES, CsvChunks, hour_text, projected, projection, since_hour, whole_lines,
)
from shared.domain.errors import InvalidInput
from shared.domain.naming import validate_deployment_name, validate_endpoint_name
from shared.ports import CaptureSegment


class LocalCapturedInputs:
    """A segment is one hour's file; its version is its size and modification time (ns), and a read
    covers the file as it was listed (its first `size` bytes: the file only grows), as CSV of `columns`."""

    def __init__(self, state_dir: str | Path, columns: Sequence[str], chunk_size: int = 1024 * 1024):
        self.state_dir = Path(state_dir).resolve()
        self.columns = list(columns)
        self.chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"LocalCapturedInputs(state_dir={str(self.state_dir)!r})"

    def segments(self, endpoint: str, deployment: str, since: str | None = None) -> list[CaptureSegment]:
        endpoint, deployment = validate_endpoint_name(endpoint), validate_deployment_name(deployment)
        start = since_hour(since)
        folder = endpoint_state.captures_folder(self.state_dir, endpoint, deployment)
        try:
            entries = list(folder.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = []
        for path in entries:
            hour = endpoint_state.capture_hour(path.name)
            if hour is None or (start is not None and hour < start):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            found.append(CaptureSegment(endpoint, deployment, path.name, f"{stat.st_size}-{stat.st_mtime_ns}",
                                        hour_text(hour), stat.st_size))
        return sorted(found, key=lambda s: s.hour)

    def read(self, segment: CaptureSegment) -> Iterator[bytes]:
        path = self._path(segment)
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            return
        with handle:
            first = handle.readline(MAX_LINE_BYTES)
            if not first.endswith(b"\n") or (segment.size and len(first) > segment.size):
                return
            header = next(csv.reader([first.decode("utf-8")]), [])
            rest = _bounded(handle, segment.size - len(first) if segment.size else None, self.chunk_size)
            if header == self.columns:
                yield from _as_is(first, rest)
            else:
                yield from _reordered(header, self.columns, whole_lines(rest), self.chunk_size)

    def _path(self, segment: CaptureSegment) -> Path:
        endpoint = validate_endpoint_name(segment.endpoint)
        deployment = validate_deployment_name(segment.deployment)
        if endpoint_state.capture_hour(segment.key) is None:
            raise InvalidInput(f"{segment.key[:80]!r} is not a capture file of {endpoint}/{deployment}")
        return endpoint_state.captures_folder(self.state_dir, endpoint, deployment) / segment.key


def _bounded(handle, left: int | None, chunk_size: int) -> Iterator[bytes]:
    """The next `left` bytes of the file (None: the rest of it), chunk by chunk."""
    while left is None or left > 0:
        chunk = handle.read(chunk_size if left is None else min(chunk_size, left))
        if not chunk:
            return
        if left is not None:
            left -= len(chunk)
        yield chunk


def _as_is(header: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The file's own bytes (its columns are the model's), cut after the last whole line: a line
    still being written belongs to the next version."""
    carry = header
    for chunk in chunks:
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
        carry = data[cut:]
    if carry.endswith(b"\n"):
        yield carry


def _reordered(header: list[str], columns: list[str], lines, chunk_size: int) -> Iterator[bytes]:
    """The file's rows in the model's columns (others left out, missing ones empty)."""
    positions = projection(header, columns)
    out = CsvChunks(columns, chunk_size)
    whole = (line.decode("utf-8") for line, complete in lines if complete)
    for row in csv.reader(whole):
        chunk = out.add([projected(row, positions)])
        if chunk:
            yield chunk
    rest = out.rest()
    if rest:
        yield rest

"""A deployment's captured live inputs as one CSV stream over its capture segments."""
from __future__ import annotations

import logging
from typing import Iterator

from shared.ports import CapturedInputs

log = logging.getLogger(__name__)


def captured_csv(captures: CapturedInputs | None, endpoint: str, deployment: str, since: str | None = None,
                 newest_first: bool = False) -> Iterator[bytes]:
    """The rows of every segment (hours before `since` left out) as CSV chunks under one header,
    oldest hour first or, with `newest_first`, the newest hour first (a reader that stops after
    n rows then gets the most recent ones). Segments are read one after the other as the stream
    is consumed; nothing when nothing is captured (or there is no capture port)."""
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
        elif first != header:  # the port promises the model's input columns: a broken segment
            log.warning("capture segment of %s/%s at %s has other columns; left out", endpoint, deployment,
                        segment.hour)
            continue
        if rest:
            yield rest
        yield from chunks


def _split_header(chunks: Iterator[bytes]) -> tuple[bytes | None, bytes]:
    """(the header line without its line break, what follows it in the chunks read so far)."""
    head = b""
    for chunk in chunks:
        head += chunk
        cut = head.find(b"\n")
        if cut != -1:
            return head[:cut], head[cut + 1:]
    return (head or None), b""

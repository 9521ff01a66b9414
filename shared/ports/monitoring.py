"""Monitoring ports: columns of data files and the inputs an endpoint captured from live traffic."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol


class WindowReader(Protocol):
    """Reads a data file's bytes as column chunks for the drift accumulator (CSV or Parquet)."""

    def columns(self, chunks: Iterable[bytes], file_format: str, names: Iterable[str] | None = None) -> Iterator[dict]:
        """Yield {column name: array of values} for successive row chunks of the file (only `names` when given)."""


@dataclass(frozen=True)
class CaptureSegment:
    """One file of a deployment's captured live inputs: Azure ML's data collector writes JSONL
    files under one folder per endpoint, deployment and hour; the local router one CSV per hour.
    A segment's profile is valid for one `version`: the current hour's file still grows."""

    endpoint: str
    deployment: str
    key: str        # the platform's name for the file, opaque to the core (never one of our storage keys)
    version: str    # changes whenever the file changes (its ETag, or size and mtime)
    hour: str       # start of the hour it covers, UTC, ISO-8601 ("2026-12-02T05:00:00Z")
    size: int = 0   # bytes when listed: a read covers the file as it was then


class CapturedInputs(Protocol):
    """The inputs of live traffic each deployment served, as the platform captured them
    (Azure ML data collection, or the local router's captures). Empty when nothing is captured."""

    def segments(self, endpoint: str, deployment: str, since: str | None = None) -> list[CaptureSegment]:
        """The deployment's capture files, oldest hour first; hours before `since` (ISO-8601 UTC) left out."""

    def read(self, segment: CaptureSegment) -> Iterator[bytes]:
        """The segment's rows as CSV bytes (header line first, the model's input columns), in chunks
        of bounded size: a large file is streamed, never held whole. Nothing when the file is gone."""

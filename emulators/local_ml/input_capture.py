"""The inputs of live traffic, kept per deployment and hour as Azure ML's data collector does."""
from __future__ import annotations

import csv
import io
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from emulator_formats import endpoint_state

log = logging.getLogger("endpoint_router")

MAX_BYTES = 256 * 1024 * 1024  # a captures file stops growing past this (one hour of one deployment)


class InputCapture:
    """Appends each served request's rows to its deployment's captures file of the hour: one
    writer thread, off the request's path."""

    def __init__(self, state_dir: Path, max_bytes: int = MAX_BYTES):
        self.state_dir = state_dir
        self.max_bytes = max_bytes
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="capture")

    def record(self, endpoint: str, deployment: str, payload: bytes) -> None:
        """Queue the rows of an MLflow `dataframe_split` request for writing, in the hour it was served."""
        self._writer.submit(self._append, endpoint, deployment, payload, datetime.now(timezone.utc))

    def close(self) -> None:
        """Write what is queued, then stop the writer."""
        self._writer.shutdown(wait=True)

    def _append(self, endpoint: str, deployment: str, payload: bytes, at: datetime) -> None:
        try:
            split = json.loads(payload)["dataframe_split"]
            if not append_capture(self.state_dir, endpoint, deployment, at, split["columns"], split["data"],
                                  self.max_bytes):
                log.warning("endpoint %s: inputs of %s not captured (the hour's file is full, or has none of "
                            "the request's columns)", endpoint, deployment)
        except Exception:  # noqa: BLE001 - capture is best effort, never a scoring failure
            log.warning("endpoint %s: could not capture inputs of %s", endpoint, deployment)


def append_capture(state_dir: Path, endpoint: str, deployment: str, at: datetime, columns: list[str],
                   rows: list[list], max_bytes: int = MAX_BYTES) -> bool:
    """Append `rows` to the captures file of the hour `at` falls in (header first when it is new),
    in the file's columns (others left out, missing ones empty). False, nothing written, when the
    file is past `max_bytes` or has none of the columns. Appended in one write call; readers leave
    out a last line still without its line break."""
    path = endpoint_state.captures_folder(state_dir, endpoint, deployment) / endpoint_state.capture_file_name(at)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = _header(path)
    if header is not None and (not set(header) & set(columns) or path.stat().st_size > max_bytes):
        return False
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header is None:
        header = list(columns)
        writer.writerow(header)
    where = {name: i for i, name in enumerate(columns)}
    order = [where.get(name) for name in header]
    writer.writerows([row[i] if i is not None else "" for i in order] for row in rows)
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(out.getvalue())
    return True


def _header(path: Path) -> list[str] | None:
    """The file's columns; None when there is no file; [] when its first line is not whole."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            line = handle.readline()
    except FileNotFoundError:
        return None
    return next(csv.reader([line]), []) if line.endswith("\n") else []

"""The inputs of live traffic, kept per deployment as Azure ML's data collector does."""
from __future__ import annotations

import csv
import io
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from emulator_formats import endpoint_state

log = logging.getLogger("endpoint_router")


class InputCapture:
    """Appends each served request's rows to the deployment's captures CSV (header first):
    one writer thread, off the request's path; a file stops growing past MAX_BYTES."""

    MAX_BYTES = 256 * 1024 * 1024

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="capture")

    def record(self, endpoint: str, deployment: str, payload: bytes) -> None:
        """Queue the rows of an MLflow `dataframe_split` request for writing."""
        self._writer.submit(self._append, endpoint, deployment, payload)

    def _append(self, endpoint: str, deployment: str, payload: bytes) -> None:
        try:
            split = json.loads(payload)["dataframe_split"]
            path = endpoint_state.captures_file(self.state_dir, endpoint, deployment)
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and path.stat().st_size > self.MAX_BYTES:
                return
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            if not path.exists():
                writer.writerow(split["columns"])
            writer.writerows(split["data"])
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(out.getvalue())
        except Exception:  # noqa: BLE001 - capture is best effort, never a scoring failure
            log.warning("endpoint %s: could not capture inputs of %s", endpoint, deployment)

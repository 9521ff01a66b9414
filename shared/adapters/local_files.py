"""Local files as the byte chunks the data contract validates (tests, benchmarks, local runs)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from shared.domain.contract import CHUNK_SIZE


def read_file_chunks(path: str | Path, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The bytes of a local file in chunks of `chunk_size`."""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(chunk_size)
            if not chunk:
                return
            yield chunk

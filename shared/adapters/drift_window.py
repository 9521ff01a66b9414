"""The WindowReader port on the streaming CSV / Parquet readers of window_reader.py."""
from __future__ import annotations

from typing import Iterable, Iterator


class ColumnChunkReader:
    def columns(self, chunks: Iterable[bytes], file_format: str) -> Iterator[dict]:
        from shared.adapters.window_reader import iter_csv_columns, iter_parquet_columns

        read = iter_parquet_columns if file_format == "parquet" else iter_csv_columns
        return read(chunks)

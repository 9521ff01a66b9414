"""Streaming readers of a drift window: CSV and Parquet in chunks, as dicts of numpy arrays.

Each reader yields one `dict[str, numpy.ndarray]` per chunk (column name → values), which is
what `shared.domain.drift.WindowAccumulator.add` takes, so a file of any size is checked
with bounded memory:

* CSV: pandas `read_csv(chunksize=...)` on a binary stream. The source is a binary
  file-like object or an iterable of bytes chunks (e.g. azure-storage-blob's
  `download_blob().chunks()`), wrapped in a read-only raw stream without buffering the
  whole file.
* Parquet: pyarrow `ParquetFile.iter_batches`. Parquet needs random access (its footer is
  at the end), so a seekable file-like object is read in place (e.g. `RangeReader` over
  blob range downloads); an iterable of bytes chunks is first spooled to a temporary file
  on disk (memory stays bounded).

Columns: pass `columns` to read only those (the baseline's features); names that the file
does not have are simply absent from the chunks, and the accumulator reports them missing.
Values keep their parsed types: a numeric column with a stray string arrives as an object
array and the accumulator counts the type errors.

pandas and pyarrow are imported inside the functions (cold start pays for neither).
"""
from __future__ import annotations

import io
import tempfile
from typing import Any, Callable, Iterable, Iterator

__all__ = ["ChunkStream", "RangeReader", "iter_csv_columns", "iter_parquet_columns", "iter_window_columns"]

DEFAULT_CHUNK_ROWS = 100_000
_SPOOL_BYTES = 8 * 1024 * 1024


class ChunkStream(io.RawIOBase):
    """A read-only binary stream over an iterable of bytes chunks (no more than one chunk held)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""
        self._offset = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        view = memoryview(target).cast("B")
        while self._offset >= len(self._buffer):
            try:
                self._buffer = bytes(next(self._chunks))
            except StopIteration:
                return 0
            self._offset = 0
        size = min(len(view), len(self._buffer) - self._offset)
        view[:size] = self._buffer[self._offset:self._offset + size]
        self._offset += size
        self.bytes_read += size
        return size


class RangeReader(io.RawIOBase):
    """A seekable read-only binary stream over a `read_range(offset, length) -> bytes` function.

    For Parquet in blob storage: `RangeReader(lambda o, n: blob.download_blob(o, n).readall(), size)`.
    """

    def __init__(self, read_range: Callable[[int, int], bytes], size: int) -> None:
        self._read_range = read_range
        self._size = int(size)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, target) -> int:
        view = memoryview(target).cast("B")
        length = min(len(view), self._size - self._position)
        if length <= 0:
            return 0
        data = self._read_range(self._position, length)
        view[:len(data)] = data
        self._position += len(data)
        return len(data)


def _binary_stream(source: Any):
    if hasattr(source, "read"):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    return io.BufferedReader(ChunkStream(source), buffer_size=1024 * 1024)


def iter_csv_columns(
    source: Any,
    columns: Iterable[str] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[dict[str, Any]]:
    """Yield dicts of column → numpy array, `chunk_rows` rows at a time, from a CSV stream."""
    import pandas as pd

    wanted = None if columns is None else set(columns)
    stream = _binary_stream(source)
    try:
        reader = pd.read_csv(
            stream,
            chunksize=chunk_rows,
            usecols=None if wanted is None else (lambda name: name in wanted),
            skipinitialspace=True,
            encoding_errors="replace",
        )
    except pd.errors.EmptyDataError:
        return
    with reader:
        for frame in reader:
            yield {str(name): _column_array(frame[name]) for name in frame.columns}


def _column_array(series):
    import numpy as np

    kind = series.dtype.kind if isinstance(series.dtype, np.dtype) else ""
    if kind in "fiub":
        return series.to_numpy()
    # strings, pandas extension types: object array with None for missing values
    return series.astype(object).where(series.notna(), None).to_numpy(dtype=object)


def iter_parquet_columns(
    source: Any,
    columns: Iterable[str] | None = None,
    batch_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[dict[str, Any]]:
    """Yield dicts of column → numpy array per record batch of a Parquet file.

    `source`: a path, a seekable binary file-like object, bytes, or an iterable of bytes
    chunks (spooled to a temporary file first).
    """
    import pyarrow.parquet as pq

    spool = None
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(bytes(source))
    elif not isinstance(source, str) and not hasattr(source, "read") and not hasattr(source, "__fspath__"):
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
        for chunk in source:
            spool.write(chunk)
        spool.seek(0)
        source = spool
    try:
        parquet = pq.ParquetFile(source)
        names = parquet.schema_arrow.names
        selected = names if columns is None else [n for n in names if n in set(columns)]
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=selected):
            yield {name: _arrow_array(batch.column(i)) for i, name in enumerate(batch.schema.names)}
    finally:
        if spool is not None:
            spool.close()


def _arrow_array(array):
    import pyarrow as pa

    kind = array.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        if array.null_count and (pa.types.is_integer(kind) or pa.types.is_boolean(kind)):
            return array.cast(pa.float64()).to_numpy(zero_copy_only=False)  # nulls → NaN
        return array.to_numpy(zero_copy_only=False)
    return array.to_numpy(zero_copy_only=False)  # strings etc.: object array, None for nulls


def iter_window_columns(source: Any, name: str, columns: Iterable[str] | None = None,
                        chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[dict[str, Any]]:
    """Pick the reader from the file name: `.parquet` / `.pq` → Parquet, anything else → CSV."""
    if name.lower().endswith((".parquet", ".pq")):
        return iter_parquet_columns(source, columns, chunk_rows)
    return iter_csv_columns(source, columns, chunk_rows)


class ColumnChunkReader:
    """The WindowReader port: the reader chosen by file format."""

    def columns(self, chunks: Iterable[bytes], file_format: str, names: Iterable[str] | None = None) -> Iterator[dict]:
        read = iter_parquet_columns if file_format == "parquet" else iter_csv_columns
        return read(chunks, names)

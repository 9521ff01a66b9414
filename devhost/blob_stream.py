"""The blob trigger's value: a ``func.InputStream`` that downloads lazily, chunk by chunk."""
from __future__ import annotations

from typing import Iterator

import azure.functions as func
from azure.storage.blob import BlobClient, BlobProperties

from .blob_storage import plain_etag


class BlobInputStream(func.InputStream):
    """``func.InputStream`` that downloads on demand, in chunks, as the function reads."""

    def __init__(self, blob: BlobClient, *, name: str, length: int | None,
                 blob_properties: dict | None = None, metadata: dict | None = None):
        super().__init__()
        self._blob = blob
        self._name = name
        self._length = length
        self._blob_properties = blob_properties
        self._metadata = metadata
        self._chunks: Iterator[bytes] | None = None
        self._buffer = b""
        self._eof = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def length(self) -> int | None:
        return self._length

    @property
    def uri(self) -> str:
        return self._blob.url

    @property
    def blob_properties(self) -> dict | None:
        return self._blob_properties

    @property
    def metadata(self) -> dict | None:
        return self._metadata

    def _next_chunk(self) -> bool:
        if self._eof:
            return False
        if self._chunks is None:
            self._chunks = iter(self._blob.download_blob().chunks())
        chunk = next(self._chunks, None)
        if chunk is None:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            parts = [self._buffer]
            self._buffer = b""
            while self._next_chunk():
                parts.append(self._buffer)
                self._buffer = b""
            return b"".join(parts)
        while len(self._buffer) < size and self._next_chunk():
            pass
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def read1(self, size: int = -1) -> bytes:
        if not self._buffer:
            self._next_chunk()
        if size is None or size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False


def make_stream(blob: BlobClient, container: str, props: BlobProperties) -> BlobInputStream:
    """The trigger value for one blob: ``name`` is ``container/blob``, properties as the real host gives them."""
    settings = props.content_settings
    properties = {
        "BlobType": blob_type_name(props),
        "ContentType": getattr(settings, "content_type", None),
        "ContentEncoding": getattr(settings, "content_encoding", None),
        "ETag": plain_etag(props.etag),
        "LastModified": props.last_modified.isoformat() if props.last_modified else None,
        "CreatedOn": props.creation_time.isoformat() if props.creation_time else None,
        "Length": props.size,
    }
    return BlobInputStream(
        blob, name=f"{container}/{props.name}", length=props.size,
        blob_properties=properties, metadata=dict(props.metadata or {}),
    )


def blob_type_name(props: BlobProperties) -> str:
    """``BlockBlob``, ``PageBlob`` or ``AppendBlob``, as the host's properties and poison messages name it."""
    return str(getattr(props.blob_type, "value", props.blob_type))

"""Storage ports: ETag-conditional JSON documents and data files (Azure Blob Storage, Azurite locally)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol


class DocumentExists(Exception):
    """create() found a document already stored under that key."""


class DocumentChanged(Exception):
    """replace() was given an ETag that is no longer current (someone else wrote first)."""


@dataclass(frozen=True)
class Versioned:
    key: str
    doc: dict
    etag: str


@dataclass(frozen=True)
class KeyPage:
    """One page of a key listing; `continuation` resumes after it (None: nothing more)."""

    keys: list[str]
    continuation: str | None = None


class DocumentStore(Protocol):
    """JSON documents under string keys with ETag-conditional writes (Blob Storage in Azure)."""

    def get(self, key: str) -> Versioned | None:
        """The document and its ETag, or None."""

    def create(self, key: str, doc: dict) -> str:
        """Store a new document; raise DocumentExists if the key is taken. Returns the ETag."""

    def replace(self, key: str, doc: dict, etag: str) -> str:
        """Overwrite only if the stored ETag still equals `etag`, else raise DocumentChanged."""

    def list(self, prefix: str) -> list[Versioned]:
        """All documents whose key starts with `prefix`, in key order (downloads each: small prefixes only)."""

    def list_keys(self, prefix: str, limit: int, continuation: str | None = None) -> KeyPage:
        """Up to `limit` keys starting with `prefix`, in key order, names only (no document is read);
        `continuation` is the opaque token of the previous page."""


@dataclass(frozen=True)
class FileInfo:
    container: str
    name: str
    etag: str
    size: int
    metadata: dict = field(default_factory=dict)  # the blob's user metadata (e.g. uploaded_by)


class FileNotFound(Exception):
    pass


class FileStore(Protocol):
    """Data files in blob containers."""

    def info(self, container: str, name: str) -> FileInfo:
        """Current ETag, size and user metadata; raise FileNotFound."""

    def read_chunks(self, container: str, name: str, etag: str, chunk_size: int = 4 * 1024 * 1024) -> Iterator[bytes]:
        """Stream the file version with this ETag; raise FileNotFound if it changed or vanished."""

    def copy(self, container: str, name: str, etag: str, to_container: str, to_name: str) -> None:
        """Server-side copy of that file version (the source is never modified); FileNotFound if it changed or vanished."""

    def keep_copy(self, container: str, name: str, etag: str, to_container: str, to_name: str) -> FileInfo:
        """Server-side copy of that file version to a name written at most once (a content-addressed
        name): when `to_name` exists it is left as it is. The target's info; FileNotFound if the
        source version changed or vanished and the target does not exist."""

    def write(self, container: str, name: str, data: bytes, content_type: str = "application/json") -> None:
        """Create or overwrite a small file."""

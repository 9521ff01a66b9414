"""DocumentStore and FileStore on Azure Blob Storage (Azurite locally): ETag-conditional JSON documents and data files."""
from __future__ import annotations

import contextlib
import functools
import json
import threading
import time
from typing import Iterator

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobServiceClient, ContentSettings

from shared.domain.errors import PlatformError, Unavailable
from shared.ports import DocumentChanged, DocumentExists, FileInfo, FileNotFound, KeyPage, Versioned

# The emulator's well-known account (public, documented by Microsoft): what UseDevelopmentStorage=true means.
AZURITE_DEVELOPMENT_STORAGE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
)


# The SDK's defaults (20 s connect timeout, retries 15-24 s apart) hold an HTTP call for a minute
# when storage is down. These fail one call within about 7 s: two tries of at most 3 s to connect
# or between reads (a timeout per read, so long downloads are not cut), 0.5 s apart.
STORAGE_TIMEOUTS = {"connection_timeout": 3, "read_timeout": 3}
STORAGE_RETRY = {"backoff": 0.5, "random_jitter_range": 0.25, "retry_total": 1}
STORAGE_RETRY_AFTER_SECONDS = 5


def blob_service(connection: str) -> BlobServiceClient:
    """A client from a connection string, or from an account URL with DefaultAzureCredential;
    with short timeouts and one quick retry, so an outage fails fast (see STORAGE_TIMEOUTS)."""
    from azure.storage.blob import LinearRetry

    options = {**STORAGE_TIMEOUTS, "retry_policy": LinearRetry(**STORAGE_RETRY)}
    if connection.startswith("https://"):
        from azure.identity import DefaultAzureCredential

        return BlobServiceClient(connection, credential=DefaultAzureCredential(), **options)
    if connection.strip() == "UseDevelopmentStorage=true":
        connection = AZURITE_DEVELOPMENT_STORAGE
    return BlobServiceClient.from_connection_string(connection, **options)


@contextlib.contextmanager
def storage_errors(doing: str) -> Iterator[None]:
    """Storage that cannot be reached (refused, timed out, busy) leaves as Unavailable (503 at the
    HTTP edge, with Retry-After); the message names the step, never the URL (it may hold a SAS)."""
    try:
        yield
    except (ServiceRequestError, ServiceResponseError) as error:
        raise Unavailable(f"storage is unreachable while {doing} ({error.__class__.__name__}); try again shortly",
                          STORAGE_RETRY_AFTER_SECONDS) from error
    except HttpResponseError as error:
        if error.status_code not in (500, 503):
            raise
        raise Unavailable(f"storage is busy while {doing} (HTTP {error.status_code}); try again shortly",
                          STORAGE_RETRY_AFTER_SECONDS) from error


def _translated(doing: str):
    """A store method under storage_errors(doing)."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            with storage_errors(doing):
                return method(*args, **kwargs)
        return wrapper
    return decorate


class _Containers:
    """Creates each container once per process, on first use."""

    def __init__(self, service: BlobServiceClient):
        self.service = service
        self._ready: set[str] = set()
        self._lock = threading.Lock()

    @_translated("creating a container")
    def get(self, name: str):
        client = self.service.get_container_client(name)
        if name not in self._ready:
            with self._lock:
                try:
                    client.create_container()
                except ResourceExistsError:
                    pass
                self._ready.add(name)
        return client


class BlobDocumentStore:
    def __init__(self, service: BlobServiceClient, container: str):
        self.container = _Containers(service).get(container)

    @_translated("reading a state document")
    def get(self, key: str) -> Versioned | None:
        try:
            downloader = self.container.download_blob(key)
            body = downloader.readall()
        except ResourceNotFoundError:
            return None
        return Versioned(key, json.loads(body), downloader.properties.etag)

    @_translated("writing a state document")
    def create(self, key: str, doc: dict) -> str:
        try:
            result = self.container.get_blob_client(key).upload_blob(_encode(doc), overwrite=False, content_settings=_JSON)
        except ResourceExistsError:
            raise DocumentExists(key) from None
        return result["etag"]

    @_translated("writing a state document")
    def replace(self, key: str, doc: dict, etag: str) -> str:
        try:
            result = self.container.get_blob_client(key).upload_blob(
                _encode(doc), overwrite=True, content_settings=_JSON,
                etag=etag, match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, ResourceNotFoundError):
            raise DocumentChanged(key) from None
        return result["etag"]

    @_translated("listing state documents")
    def list(self, prefix: str) -> list[Versioned]:
        found = []
        for item in self.container.list_blobs(name_starts_with=prefix):
            stored = self.get(item.name)
            if stored:
                found.append(stored)
        return found

    @_translated("listing state documents")
    def list_keys(self, prefix: str, limit: int, continuation: str | None = None) -> KeyPage:
        pages = self.container.list_blobs(name_starts_with=prefix, results_per_page=limit).by_page(continuation)
        page = next(pages, None)
        keys = [item.name for item in page] if page is not None else []
        return KeyPage(keys, pages.continuation_token or None)


class BlobFileStore:
    def __init__(self, service: BlobServiceClient):
        self.containers = _Containers(service)

    @_translated("reading a file's properties")
    def info(self, container: str, name: str) -> FileInfo:
        try:
            props = self.containers.get(container).get_blob_client(name).get_blob_properties()
        except ResourceNotFoundError:
            raise FileNotFound(f"{container}/{name}") from None
        return FileInfo(container, name, props.etag, props.size, dict(props.metadata or {}))

    def read_chunks(self, container: str, name: str, etag: str, chunk_size: int = 4 * 1024 * 1024) -> Iterator[bytes]:
        blob = self.containers.get(container).get_blob_client(name)
        with storage_errors("reading a file"):
            try:
                downloader = blob.download_blob(
                    etag=etag, match_condition=MatchConditions.IfNotModified, max_concurrency=1,
                )
            except (ResourceNotFoundError, ResourceModifiedError):
                raise FileNotFound(f"{container}/{name} (ETag {etag})") from None
            # The SDK's chunk iterator holds one chunk at a time: memory stays bounded for any size.
            yield from downloader.chunks()

    @_translated("copying a file")
    def copy(self, container: str, name: str, etag: str, to_container: str, to_name: str) -> None:
        self._copy(container, name, etag, to_container, to_name)

    def keep_copy(self, container: str, name: str, etag: str, to_container: str, to_name: str) -> FileInfo:
        try:
            return self.info(to_container, to_name)
        except FileNotFound:
            pass
        try:
            # If-None-Match: * on the target: of two concurrent copies one writes, the other finds it.
            self._copy(container, name, etag, to_container, to_name, match_condition=MatchConditions.IfMissing)
        except (FileNotFound, ResourceExistsError):
            try:
                return self.info(to_container, to_name)
            except FileNotFound:
                raise FileNotFound(f"{container}/{name} (ETag {etag})") from None
        return self.info(to_container, to_name)

    def _copy(self, container: str, name: str, etag: str, to_container: str, to_name: str, **target_conditions) -> None:
        source = self.containers.get(container).get_blob_client(name)
        target = self.containers.get(to_container).get_blob_client(to_name)
        try:
            copy = target.start_copy_from_url(
                source.url, source_etag=etag, source_match_condition=MatchConditions.IfNotModified,
                **target_conditions,
            )
        except (ResourceNotFoundError, ResourceModifiedError):
            raise FileNotFound(f"{container}/{name} (ETag {etag})") from None
        deadline = time.monotonic() + 600
        while copy["copy_status"] == "pending" and time.monotonic() < deadline:
            time.sleep(0.5)
            copy = target.get_blob_properties().copy
            copy = {"copy_status": copy.status}
        if copy["copy_status"] != "success":
            raise PlatformError(f"copy of {container}/{name} to {to_container}/{to_name} ended {copy['copy_status']}")

    @_translated("writing a file")
    def write(self, container: str, name: str, data: bytes, content_type: str = "application/json") -> None:
        self.containers.get(container).upload_blob(
            name, data, overwrite=True, content_settings=ContentSettings(content_type=content_type)
        )


_JSON = ContentSettings(content_type="application/json")


def _encode(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()

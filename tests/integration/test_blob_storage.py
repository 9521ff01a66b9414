"""The blob adapters against a real Azurite: ETag-conditional documents and data files."""
from __future__ import annotations

import threading
import uuid

import pytest

from shared.adapters.blob_storage import BlobDocumentStore, BlobFileStore, blob_service
from shared.ports import DocumentChanged, DocumentExists, FileNotFound
from shared.services.documents import update_document

pytestmark = pytest.mark.integration


@pytest.fixture
def documents(azurite):
    return BlobDocumentStore(blob_service(azurite), f"state-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def files(azurite):
    return BlobFileStore(blob_service(azurite))


def test_create_is_exclusive_and_replace_needs_the_current_etag(documents):
    etag = documents.create("jobs/a", {"n": 1})
    with pytest.raises(DocumentExists):
        documents.create("jobs/a", {"n": 2})

    new_etag = documents.replace("jobs/a", {"n": 2}, etag)
    with pytest.raises(DocumentChanged):
        documents.replace("jobs/a", {"n": 3}, etag)

    stored = documents.get("jobs/a")
    assert stored.doc == {"n": 2} and stored.etag == new_etag
    assert documents.get("jobs/missing") is None


def test_list_returns_documents_under_a_prefix_in_key_order(documents):
    for key in ("batches/b", "batches/a", "jobs/x"):
        documents.create(key, {"key": key})
    assert [v.key for v in documents.list("batches/")] == ["batches/a", "batches/b"]


def test_concurrent_updates_lose_nothing(documents):
    def increment(doc):
        doc = doc or {"count": 0}
        doc["count"] += 1
        return doc

    threads = [threading.Thread(target=update_document, args=(documents, "counter", increment)) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert documents.get("counter").doc["count"] == 12


def test_files_stream_by_etag_and_copy_server_side(files, azurite):
    from devstack.client import upload_file

    container = f"data-{uuid.uuid4().hex[:8]}"
    payload = b"x" * (9 * 1024 * 1024 + 17)
    upload_file(azurite, container, "in/file.csv", payload)

    info = files.info(container, "in/file.csv")
    chunks = list(files.read_chunks(container, "in/file.csv", info.etag, chunk_size=4 * 1024 * 1024))
    files.copy(container, "in/file.csv", info.etag, "quarantine-test", "copy/file.csv")

    assert info.size == len(payload)
    assert b"".join(chunks) == payload and max(len(c) for c in chunks) <= 4 * 1024 * 1024 + 17
    copied = files.info("quarantine-test", "copy/file.csv")
    assert copied.size == len(payload)
    assert files.info(container, "in/file.csv").etag == info.etag, "the source is untouched"


def test_a_changed_or_missing_file_is_not_read_under_a_stale_etag(files, azurite):
    from devstack.client import upload_file

    container = f"data-{uuid.uuid4().hex[:8]}"
    upload_file(azurite, container, "f.csv", b"one")
    old = files.info(container, "f.csv").etag
    upload_file(azurite, container, "f.csv", b"two")

    with pytest.raises(FileNotFound):
        list(files.read_chunks(container, "f.csv", old))
    with pytest.raises(FileNotFound):
        files.info(container, "nope.csv")

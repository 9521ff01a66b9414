"""DocumentStore and FileStore, one suite on the fake and on the blob adapters over a real Azurite:
ETag-conditional documents, name-only paged listing, data files read by ETag."""
from __future__ import annotations

import threading
import uuid

import pytest

from shared.ports import DocumentChanged, DocumentExists, FileNotFound
from shared.services.documents import update_document


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


def test_list_keys_pages_names_under_a_prefix_in_key_order(documents):
    keys = [f"index/k{i:03d}" for i in range(7)]
    for key in reversed(keys):
        documents.create(key, {})
    documents.create("indexed/other", {})

    seen, token, pages = [], None, 0
    while True:
        page = documents.list_keys("index/", 3, token)
        seen += page.keys
        pages += 1
        assert len(page.keys) <= 3
        token = page.continuation
        if not token:
            break
    assert seen == keys and pages == 3
    assert documents.list_keys("nothing/", 5).keys == [] and documents.list_keys("nothing/", 5).continuation is None


def test_files_stream_by_etag_and_copy_server_side(files):
    container = f"data-{uuid.uuid4().hex[:8]}"
    payload = b"x" * (9 * 1024 * 1024 + 17)
    files.upload(container, "in/file.csv", payload)

    info = files.info(container, "in/file.csv")
    chunks = list(files.read_chunks(container, "in/file.csv", info.etag, chunk_size=4 * 1024 * 1024))
    files.copy(container, "in/file.csv", info.etag, "quarantine-test", "copy/file.csv")

    assert info.size == len(payload)
    assert b"".join(chunks) == payload and max(len(c) for c in chunks) <= 4 * 1024 * 1024 + 17
    copied = files.info("quarantine-test", "copy/file.csv")
    assert copied.size == len(payload)
    assert files.info(container, "in/file.csv").etag == info.etag, "the source is untouched"


def test_a_changed_or_missing_file_is_not_read_under_a_stale_etag(files):
    container = f"data-{uuid.uuid4().hex[:8]}"
    files.upload(container, "f.csv", b"one")
    old = files.info(container, "f.csv").etag
    files.upload(container, "f.csv", b"two")

    with pytest.raises(FileNotFound):
        list(files.read_chunks(container, "f.csv", old))
    with pytest.raises(FileNotFound):
        files.info(container, "nope.csv")


LONG_UNICODE_NAME = "landing/" + "données-模型-" * 92 + ".csv"  # 1,024 characters: Azure's longest blob name


def test_keep_copy_writes_a_content_addressed_copy_once(files):
    container = f"data-{uuid.uuid4().hex[:8]}"
    etag = files.upload(container, "in/a.csv", b"first")
    copy = files.keep_copy(container, "in/a.csv", etag, container, "_accepted/h1")
    other = files.upload(container, "in/b.csv", b"first")

    again = files.keep_copy(container, "in/b.csv", other, container, "_accepted/h1")

    assert (copy.name, copy.size) == ("_accepted/h1", 5)
    assert again.etag == copy.etag, "an existing copy is left as it is"
    assert b"".join(files.read_chunks(container, "_accepted/h1", copy.etag)) == b"first"


def test_keep_copy_of_a_changed_source_is_not_found_and_writes_nothing(files):
    container = f"data-{uuid.uuid4().hex[:8]}"
    old = files.upload(container, "a.csv", b"one")
    files.upload(container, "a.csv", b"two")

    with pytest.raises(FileNotFound):
        files.keep_copy(container, "a.csv", old, container, "_accepted/h2")
    with pytest.raises(FileNotFound):
        files.info(container, "_accepted/h2")


def test_a_copy_outlives_its_original_and_any_re_upload(files):
    container = f"data-{uuid.uuid4().hex[:8]}"
    etag = files.upload(container, LONG_UNICODE_NAME, b"accepted bytes")
    copy = files.keep_copy(container, LONG_UNICODE_NAME, etag, container, "_accepted/h3")
    assert files.info(container, LONG_UNICODE_NAME).etag == etag, "a 1,024-character Unicode name works"

    files.upload(container, LONG_UNICODE_NAME, b"corrected bytes")
    files.delete(container, LONG_UNICODE_NAME)

    assert b"".join(files.read_chunks(container, "_accepted/h3", copy.etag)) == b"accepted bytes"

"""The blobs webhook reads an event's data.url as the real host's Azure.Storage BlobUriBuilder does."""
from __future__ import annotations

import pytest

from devhost.blob_events import BlobEvent, blob_of


@pytest.mark.parametrize("url, expected", [
    ("https://acct.blob.core.windows.net/data/incoming/a.csv", BlobEvent("data", "incoming/a.csv")),
    ("http://127.0.0.1:10000/devstoreaccount1/data/incoming/a%20b.csv", BlobEvent("data", "incoming/a b.csv")),
    ("http://localhost:10000/devstoreaccount1/data/x.csv", BlobEvent("data", "x.csv")),  # an emulator port
    # A production-style host on another port (the Azure emulator's Azurite): the account is the host's
    # first label, so the path starts with the container (azure-storage-blob would take "data" as the account).
    ("https://devstoreaccount1.blob.localhost:10200/data/incoming/x.csv", BlobEvent("data", "incoming/x.csv")),
])
def test_container_and_name_come_from_the_url_as_the_real_host_parses_it(url, expected):
    assert blob_of({"data": {"url": url}}) == expected


@pytest.mark.parametrize("url", ["", "ftp://host/c/b", "https://acct.blob.core.windows.net/onlycontainer",
                                 "http://127.0.0.1:10000/devstoreaccount1/data"])
def test_a_url_without_a_blob_is_refused(url):
    with pytest.raises(ValueError):
        blob_of({"data": {"url": url}})

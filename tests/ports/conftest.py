"""One contract, both sides: each port's suite runs on the in-memory fake and on the real adapter (Azurite)."""
from __future__ import annotations

import uuid

import pytest

from tests.fakes import FakeAuditLog, FakeDocumentStore, FakeFileStore

SIDES = ["fake", pytest.param("azurite", marks=pytest.mark.integration)]


@pytest.fixture(params=SIDES)
def side(request) -> str:
    return request.param


@pytest.fixture
def documents(side, request):
    if side == "fake":
        return FakeDocumentStore()
    from shared.adapters.blob_storage import BlobDocumentStore, blob_service

    return BlobDocumentStore(blob_service(request.getfixturevalue("azurite")), f"state-{uuid.uuid4().hex[:8]}")


class Files:
    """A FileStore and ways to put a file in it and take it out the way a data engineer would."""

    def __init__(self, store, upload, delete):
        self.store, self.upload, self.delete = store, upload, delete

    def __getattr__(self, name):
        return getattr(self.store, name)


@pytest.fixture
def files(side, request) -> Files:
    if side == "fake":
        fake = FakeFileStore()
        return Files(fake, lambda container, name, data: fake.upload(container, name, data), fake.delete)
    from devstack.client import upload_file
    from shared.adapters.blob_storage import BlobFileStore, blob_service

    azurite = request.getfixturevalue("azurite")
    service = blob_service(azurite)
    return Files(BlobFileStore(service), lambda c, n, d: upload_file(azurite, c, n, d),
                 lambda c, n: service.get_blob_client(c, n).delete_blob())


@pytest.fixture
def audit_log(side, request):
    if side == "fake":
        return FakeAuditLog()
    from shared.adapters.blob_audit import BlobAuditLog
    from shared.adapters.blob_storage import blob_service

    return BlobAuditLog(blob_service(request.getfixturevalue("azurite")), f"audit-{uuid.uuid4().hex[:8]}")

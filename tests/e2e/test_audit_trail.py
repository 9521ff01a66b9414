"""End to end on the local stack: a decision the app audits (a withdrawn data file) lands in the
hash-chained log of the audit container, GET /api/audit/verify through the local host says it
holds, and an entry edited in the stored blob is named."""
from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest
from azure.storage.blob import ContentSettings

from devstack.client import ApiClient, upload_file, wait_for
from shared.adapters.blob_storage import blob_service
from tests.e2e.test_data_lifecycle import accepted, part

pytestmark = pytest.mark.e2e


def rewrite(blob, lines: list[bytes]) -> None:
    blob.create_append_blob(content_settings=ContentSettings(content_type="application/x-ndjson"))
    blob.append_block(b"".join(lines))


def test_an_audited_withdrawal_verifies_and_an_edit_of_the_stored_entry_is_named(local_stack, api: ApiClient):
    name = f"incoming/audited-{uuid.uuid4().hex[:6]}.csv"
    accepted(api, name, upload_file(local_stack.storage_connection, "data", name, part(7)))
    withdrawn = api.request("DELETE", f"/api/data/{quote(name, safe='/')}", {"reviewer": "e2e-auditor"})
    assert withdrawn.status == 200, withdrawn.body[:300]

    entry = wait_for("the withdrawal's audit entry", lambda: next(
        (e for e in api.get_json("/api/audit?limit=100")["entries"] if e.get("file") == name), None), 30)
    verified = api.get_json("/api/audit/verify")
    assert verified["ok"] is True and verified["entries"] >= entry["seq"] and verified["first_broken"] is None

    container = local_stack.values.get("AUDIT_CONTAINER", "audit")
    blob = blob_service(local_stack.storage_connection).get_blob_client(container, "decisions.jsonl")
    original = blob.download_blob().readall().splitlines(keepends=True)
    index = next(i for i, line in enumerate(original) if json.loads(line)["seq"] == entry["seq"])
    edited = {**json.loads(original[index]), "actor": "mallory"}
    try:
        rewrite(blob, [*original[:index], (json.dumps(edited, sort_keys=True) + "\n").encode(), *original[index + 1:]])
        broken = api.get_json("/api/audit/verify")
        assert broken["ok"] is False
        assert broken["first_broken"]["index"] == index and broken["first_broken"]["id"] == entry["hash"]
        assert broken["first_broken"]["reason"].startswith("hash")
    finally:
        rewrite(blob, original)  # the rest of the session's stack keeps an intact log
    assert api.get_json("/api/audit/verify")["ok"] is True

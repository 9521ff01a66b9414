"""GET /api/audit/verify on a real Azurite: the app's own storage (the audit container's append blob,
the head document in the state container), an entry edited in the stored blob, and the chain naming it."""
from __future__ import annotations

import json
import uuid

import pytest
from azure.storage.blob import ContentSettings

import shared.bootstrap as bootstrap
from shared.adapters.blob_storage import blob_service
from tests.blueprints.conftest import call, request
from tests.builders import unit_settings
from tests.fakes import FakeCapturedInputs, FakeDeliveryPlatform, FakeNotifier, FakeOnlineEndpoints, FakeStepQueue

pytestmark = pytest.mark.integration


@pytest.fixture
def services(azurite, monkeypatch):
    suffix = uuid.uuid4().hex[:8]
    settings = unit_settings(AzureWebJobsStorage=azurite, AUDIT_CONTAINER=f"audit-{suffix}",
                             STATE_CONTAINER=f"state-{suffix}")
    built = bootstrap.build_services(settings, platform=FakeDeliveryPlatform(), notifier=FakeNotifier(),
                                     endpoints=FakeOnlineEndpoints(), queue=FakeStepQueue(), captures=FakeCapturedInputs())
    monkeypatch.setattr(bootstrap, "_services", built)
    return built


def rewrite(blob, lines: list[bytes]) -> None:
    """What someone with write access to the container (and no retention policy in the way) could do."""
    blob.create_append_blob(content_settings=ContentSettings(content_type="application/x-ndjson"))
    blob.append_block(b"".join(lines))


def test_an_entry_edited_in_the_stored_blob_is_named(azurite, services):
    stored = [services.audit.append({"action": "approved", "actor": f"r{n}@example.com", "version": str(n)})
              for n in range(4)]
    status, body = call("verify_audit", request("GET", "audit/verify"))
    assert (status, body["ok"], body["entries"], body["head_hash"]) == (200, True, 4, stored[-1]["hash"])

    storage = services.settings.storage
    blob = blob_service(azurite).get_blob_client(storage.audit_container, "decisions.jsonl")
    head = blob_service(azurite).get_blob_client(storage.state_container, "audit/head.json")
    assert json.loads(head.download_blob().readall()) == {"seq": 4, "hash": stored[-1]["hash"]}
    lines = blob.download_blob().readall().splitlines(keepends=True)
    edited = json.loads(lines[2])
    edited["actor"] = "mallory@example.com"
    lines[2] = (json.dumps(edited, sort_keys=True, separators=(",", ":")) + "\n").encode()
    rewrite(blob, lines)

    status, body = call("verify_audit", request("GET", "audit/verify"))
    assert status == 200 and body["ok"] is False and body["entries"] == 4
    assert body["first_broken"]["index"] == 2 and body["first_broken"]["id"] == stored[2]["hash"]
    assert body["first_broken"]["reason"].startswith("hash")


def test_a_log_cut_short_is_caught_against_the_head(azurite, services):
    [services.audit.append({"action": "approved", "n": n}) for n in range(3)]
    storage = services.settings.storage
    blob = blob_service(azurite).get_blob_client(storage.audit_container, "decisions.jsonl")
    rewrite(blob, blob.download_blob().readall().splitlines(keepends=True)[:2])

    status, body = call("verify_audit", request("GET", "audit/verify"))
    assert status == 200 and body["ok"] is False and body["first_broken"]["index"] == 2
    assert body["first_broken"]["reason"].startswith("truncated")

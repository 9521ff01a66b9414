"""GET /api/audit/verify in process: 200 with the chain's state, intact or broken."""
from __future__ import annotations

from tests.blueprints.conftest import FUNCTIONS, call, request


def test_verify_is_a_function_key_route():
    function = FUNCTIONS["verify_audit"]
    [trigger] = [b for b in function.get_bindings() if b.type == "httpTrigger"]
    assert trigger.route == "audit/verify" and [str(m.value) for m in trigger.methods] == ["GET"]
    assert trigger.auth_level.value == "function"


def test_an_intact_log_verifies(world):
    stored = [world.services.audit.append({"action": "approved", "n": n}) for n in range(3)]

    status, body = call("verify_audit", request("GET", "audit/verify"))

    assert status == 200
    assert body == {"ok": True, "entries": 3, "first_broken": None, "head_hash": stored[-1]["hash"],
                    "retention_days": 183}


def test_an_edited_entry_is_named_and_still_answered_200(world):
    stored = [world.services.audit.append({"action": "approved", "n": n}) for n in range(3)]
    world.audit.entries[1]["n"] = 99

    status, body = call("verify_audit", request("GET", "audit/verify"))

    assert status == 200 and body["ok"] is False and body["entries"] == 3
    assert body["first_broken"]["index"] == 1 and body["first_broken"]["id"] == stored[1]["hash"]
    assert body["first_broken"]["reason"].startswith("hash")

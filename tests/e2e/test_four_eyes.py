"""Four eyes through the real local host: without App Service authentication a principal header
is refused, never believed; a second host on the same stack emulating App Service authentication
(a configured test principal) decides as that principal, and an unlisted one changes nothing."""
from __future__ import annotations

from devstack.client import ApiClient
from devstack.processes import PYTHON, REPO_ROOT, free_port, start_process
from tests.e2e.test_outer_loop import decided, new_pending_approval


def test_principals_are_believed_only_behind_app_service_authentication(local_stack, api):
    approval = new_pending_approval(api, local_stack)
    route = f"/api/approvals/{approval['id']}/approve"

    spoofed = api.request("POST", route, {"reviewer": "ada"}, headers={"X-MS-CLIENT-PRINCIPAL-NAME": "ada@contoso.com"})
    assert spoofed.status == 400 and b"AUTH_MODE" in spoofed.body
    assert api.get_json(f"/api/approvals/{approval['id']}")["status"] == "pending"

    port = free_port()
    signed_in = start_process(
        "functions-host-easy-auth", [PYTHON, "-m", "devhost", "--app-dir", str(REPO_ROOT), "--port", str(port)],
        local_stack.log_dir, ready_url=f"http://127.0.0.1:{port}/admin/host/status",
        env={**local_stack.app_env(), "PYTHONUNBUFFERED": "1", "AUTH_MODE": "app-service",
             "APPROVERS": "ada@contoso.com", "DEVHOST_AUTH_PRINCIPAL": '{"name": "eve@contoso.com", "object_id": "oid-e"}'},
    )
    try:
        signed_in.wait_ready(60)
        eve = ApiClient(f"http://127.0.0.1:{port}", local_stack.values["LOCAL_HOST_FUNCTION_KEY"])
        refused = eve.request("POST", route, {"reviewer": "ada"}, headers={"X-MS-CLIENT-PRINCIPAL-NAME": "ada@contoso.com"})
        assert refused.status == 403 and refused.json()["error"] == "not an approver: eve@contoso.com is not listed in APPROVERS"
    finally:
        signed_in.stop()
    assert api.get_json(f"/api/approvals/{approval['id']}")["status"] == "pending"
    entry = next(e for e in api.get_json("/api/audit?limit=50")["entries"]
                 if e["action"] == "decision_refused" and e.get("approval_id") == approval["id"])
    assert entry["actor"] == "eve@contoso.com" and entry["principal"]["object_id"] == "oid-e"

    rejected = api.request("POST", f"/api/approvals/{approval['id']}/reject", {"reviewer": "bob"})
    assert rejected.status == 202 and decided(api, approval["id"])["status"] == "rejected"

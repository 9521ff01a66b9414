"""Drift demo on the local stack (`make demo-drift`): a shifted batch triggers retraining, an unshifted one nothing.

On a fresh stack (.local/demo-drift) with RETRAIN_TRIGGERS=drift: trains and approves a first
champion on diabetes-dev.csv, uploads an unshifted batch of 1,500 rows of diabetes-prod.csv
(drift check: no drift, no job), then 1,500 rows with PlasmaGlucose x1.10 and SerumInsulin x1.20
(a shift the old fixed thresholds missed once pooled with the unshifted batch): drift check →
drift in the newest file, the recent window and everything since the champion → retraining → a
new candidate awaiting approval. Prints each step with its time, the three windows' verdicts
and the report's address, then stops everything it started.
"""
from __future__ import annotations

import csv
import io
import sys

from devstack.client import ApiClient, upload_file, wait_for
from devstack.demo import Steps, run_demo
from devstack.processes import REPO_ROOT
from devstack.stack import LocalStack

OVERRIDES = {"RETRAIN_TRIGGERS": "drift", "TRAINING_QUIET_PERIOD_SECONDS": "2",
             "DRIFT_CHECK_SCHEDULE": "0 0 0 1 1 *", "TRAINING_ALGORITHM": "gradient_boosting"}


def prod_batch(start: int, rows: int, shifted: bool) -> bytes:
    with open(REPO_ROOT / "data" / "diabetes-prod.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        selected = [row for i, row in enumerate(reader) if start <= i < start + rows]
    if shifted:
        for row in selected:
            row["PlasmaGlucose"] = str(round(int(row["PlasmaGlucose"]) * 1.10))
            row["SerumInsulin"] = str(round(int(row["SerumInsulin"]) * 1.20))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(selected[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(selected)
    return out.getvalue().encode()


def main() -> int:
    return run_demo("demo-drift", "drift demo: champion → unshifted batch (nothing) → shifted batch "
                    "(drift → retraining → candidate)", OVERRIDES,
                    lambda stack, steps: run(stack, ApiClient(stack.host_url, stack.values["LOCAL_HOST_FUNCTION_KEY"]), steps))


def run(stack: LocalStack, api: ApiClient, steps: Steps) -> int:
    upload_file(stack.storage_connection, "data", "dev/diabetes-dev.csv", (REPO_ROOT / "data" / "diabetes-dev.csv").read_bytes())
    wait_for("dev data accepted", lambda: _file(api, "dev/diabetes-dev.csv"), 60)
    api.request("POST", "/api/training/request", {"reason": "first model"})
    champion = wait_for("the first candidate", lambda: _pending_approval(api), 240)
    api.request("POST", f"/api/approvals/{champion['id']}/approve", {"reviewer": "demo-drift"})
    wait_for("the champion promoted", lambda: api.get_json("/api/production")["champion_version"], 120)
    steps.done("champion in production", f"v{champion['candidate_version']} trained on diabetes-dev.csv")

    jobs_before = api.get_json("/api/jobs")["count"]
    upload_file(stack.storage_connection, "data", "prod/unshifted.csv", prod_batch(0, 1500, shifted=False))
    wait_for("unshifted batch accepted", lambda: _file(api, "prod/unshifted.csv"), 60)
    check = api.request("POST", "/api/drift/check").json()
    steps.done(f"unshifted batch: {check['verdict']}", _figures(check))
    if check["verdict"] != "no_drift" or api.get_json("/api/jobs")["count"] != jobs_before or _pending_training(api):
        print("the unshifted batch should have triggered nothing")
        return 1
    steps.done("nothing triggered", f"{jobs_before} job(s), no training request")

    upload_file(stack.storage_connection, "data", "prod/shifted.csv", prod_batch(1500, 1500, shifted=True))
    wait_for("shifted batch accepted", lambda: _file(api, "prod/shifted.csv"), 60)
    check = api.request("POST", "/api/drift/check").json()
    steps.done(f"shifted batch: {check['verdict']}", _figures(check))
    print(f"      report: {check.get('report', {}).get('url')}")
    if check["verdict"] != "drift":
        return 1
    steps.done("retraining requested", check["retraining"]["detail"])
    # The retrained model meets the gate like any other: it either reaches an approval request or
    # fails the gate (production then keeps the champion). Both end the loop the drift started.
    approval = wait_for("the retrained candidate's gate",
                        lambda: _pending_approval(api, after=champion["id"])
                        or _gated_out(api, champion["candidate_version"]), 300)
    if "candidate_version" in approval:
        steps.done("new candidate awaits approval", f"v{approval['candidate_version']} ({approval['id']})")
        print(f"      approve link: {approval['links']['Approve']}")
    else:
        steps.done(f"new candidate v{approval['version']} failed the gate",
                   f"production keeps v{champion['candidate_version']}")
        print(f"      why: {approval['history'][-1]['detail']}")
    return 0


def _gated_out(api: ApiClient, champion_version: str):
    """A candidate newer than the champion that the quality gate turned down, if any."""
    return next((c for c in api.get_json("/api/candidates")["candidates"]
                 if int(c["version"]) > int(champion_version) and c["status"] == "gate_failed"), None)


def _figures(check: dict) -> str:
    windows = check.get("windows") or {}
    return "; ".join(f"{name.replace('_', ' ')} {w['rows']} rows: {w['verdict']}"
                     + (f" ({', '.join(w['drifted_features'])})" if w.get("drifted_features") else "")
                     for name, w in windows.items())


def _file(api: ApiClient, name: str):
    return next((f for f in api.get_json("/api/data")["files"] if f["name"] == name and f["status"] == "accepted"), None)


def _pending_training(api: ApiClient) -> bool:
    return any(j["status"] in ("queued", "running") for j in api.get_json("/api/jobs")["jobs"])


def _pending_approval(api: ApiClient, after: str | None = None):
    pending = [a for a in api.get_json("/api/approvals?status=pending")["approvals"] if a["id"] != after]
    return api.get_json(f"/api/approvals/{pending[0]['id']}") if pending else None


if __name__ == "__main__":
    sys.exit(main())

"""End to end: drift checks over HTTP against the champion's stored baseline, with their reports."""
from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest

from devstack.client import ApiClient, upload_file, wait_for
from tests.e2e.test_outer_loop import PROD_ROWS, decided, new_pending_approval, score

pytestmark = pytest.mark.e2e
DATA = Path(__file__).resolve().parents[2] / "data"


def ensure_champion(api: ApiClient, stack) -> str:
    champion = api.get_json("/api/production")["champion_version"]
    if champion:
        return champion
    approval = new_pending_approval(api, stack)
    api.request("POST", f"/api/approvals/{approval['id']}/approve", {"reviewer": "monitoring-test"})
    decided(api, approval["id"])
    return approval["candidate_version"]


def shifted_batch(rows: int) -> bytes:
    with open(DATA / "diabetes-prod.csv", newline="") as handle:
        selected = [r for i, r in enumerate(csv.DictReader(handle)) if 5000 <= i < 5000 + rows]
    for r in selected:
        r.update(Pregnancies=str(int(r["Pregnancies"]) + 1), Age=str(round(int(r["Age"]) * 1.2)),
                 BMI=f"{float(r['BMI']) * 1.1:.6f}")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(selected[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(selected)
    return out.getvalue().encode()


def test_a_shifted_batch_is_detected_reported_and_scored_by_the_champion(local_stack, api):
    champion = ensure_champion(api, local_stack)
    name = f"incoming/shifted-{uuid.uuid4().hex[:6]}.csv"
    upload_file(local_stack.storage_connection, "data", name, shifted_batch(3000))
    wait_for("the shifted batch accepted", lambda: any(
        f["name"] == name and f["status"] == "accepted" for f in api.get_json("/api/data")["files"]), 60)

    status, predictions, _ = score(local_stack, PROD_ROWS[1:51])  # live traffic: its inputs are captured
    assert status == 200 and len(predictions) == 50
    production = api.get_json("/api/production")
    captures = (local_stack.endpoints_dir / local_stack.values["ENDPOINT_NAME"] / "captures"
                / production["champion_deployment"])  # one CSV per hour, header first
    wait_for("the captured inputs", lambda: sum(len(f.read_text().splitlines()) - 1
                                                for f in captures.glob("*.csv")) >= 50, 10)

    response = api.request("POST", "/api/drift/check")

    assert response.status == 200
    record = response.json()
    assert record["champion_version"] == api.get_json("/api/production")["champion_version"]
    assert record["verdict"] == "drift", record.get("result", {}).get("reason")
    assert {"Age", "BMI"} <= set(record["drifted_features"])
    assert name in record["files"]
    assert record["captured_rows"] >= 50
    report = api.request("GET", f"/api/drift/reports/{record['id']}")
    assert report.status == 200 and report.body.count(b"<svg") >= 8
    assert ApiClient(local_stack.host_url).request("GET", f"/api/drift/reports/{record['id']}").status == 401
    history = api.get_json("/api/drift")
    assert history["latest"]["id"] == record["id"]
    performance = [p for p in history["performance"] if p["file"] == name]
    assert performance and set(performance[0]["metrics"]) >= {"auc", "accuracy", "f1"}
    assert performance[0]["champion_version"] == champion or performance[0]["champion_version"]


def test_unknown_reports_and_bad_requests_are_clear(local_stack, api):
    missing = api.request("GET", "/api/drift/reports/nope")
    assert missing.status == 404 and b"nope" in missing.body
    bad = api.request("POST", "/api/training/request", b"[not json", {"Content-Type": "application/json"})
    assert bad.status == 400 and b"JSON" in bad.body

"""The evidence document of an approval request: what it holds, its verdict line, its digest, and that
it is issued once per approval and whatever part of it cannot be gathered."""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from shared.domain import evidence
from shared.domain.contract import DIABETES_CONTRACT
from shared.domain.contract.schema import FEATURE
from shared.domain.drift.window_profile import new_profile, profile_grids
from shared.domain.errors import NotFound, PlatformError
from shared.services.evidence import _positives
from tests.unit.test_monitoring import rows
from tests.unit.test_quality_gate import DATA, GateLoop, trained

PASSED_GATE = {
    "passed": True, "metric": "auc", "candidate": {"auc": 0.8627}, "champion": {"auc": 0.8511},
    "champion_version": "6", "reasons": [],
    "difference": {"point": 0.0116, "lower": -0.004, "upper": 0.027, "confidence": 0.95, "margin": 0.02},
}
SMOKE = {"passed": True, "rows": 15, "latency_ms": 12.0, "problems": [], "predictions": [0] * 15}


class EvidenceLoop(GateLoop):
    """The outer loop with files accepted by the ingestion service (so their profiles are stored)."""

    def ingest(self, name: str, data: bytes):
        self.files.upload("data", name, data)
        return self.ingestion.handle_new_file("data", name)


@pytest.fixture
def loop():
    return EvidenceLoop()


def champion_and_candidate(loop: EvidenceLoop):
    """v1 (trained on a.csv) is the champion with a drift check and a performance record; v2, trained on
    a.csv and b.csv, awaits approval."""
    a = loop.ingest("prod/a.csv", rows(DATA / "diabetes-prod.csv", 0, 600))
    trained(loop, "1", [a])
    first = loop.register("1")
    loop.approvals.decide(first.approval_id, "approve", "ada@example.com")
    loop.clock.advance(hours=1)
    b = loop.ingest("prod/b.csv", rows(DATA / "diabetes-prod.csv", 600, 600, shifted=True))  # scored by v1
    check = loop.drift.check_drift()
    loop.clock.advance(hours=1)
    trained(loop, "2", [a, b])
    return a, b, check, loop.register("2")


def test_the_document_holds_the_gate_the_training_set_its_drift_the_history_and_links(loop):
    loop.platform.profile = {**loop.platform.profile, "label": {"name": "Diabetic", "positive_rate": 0.3375}}
    a, b, check, candidate = champion_and_candidate(loop)

    document = loop.evidence.for_approval(candidate.approval_id)
    approval = loop.approvals.get(candidate.approval_id)
    assert approval.evidence_digest == evidence.digest(document) == loop.evidence.digest(document)
    assert approval.artifact_digest == document["artifact_digest"] == loop.platform.model_artifact_digest(
        "diabetes-classifier", "2")
    assert (document["schema"], document["version"], document["approval_id"]) == (1, "2", candidate.approval_id)
    assert document["gate"] == candidate.gate and document["smoke"] == candidate.smoke
    assert document["verdict"]["passed"] and document["verdict"]["line"].startswith("v2 passes the gate: AUC ")
    assert " vs champion v1 " in document["verdict"]["line"] and "95% CI [" in document["verdict"]["line"]
    assert document["candidate"]["deployment"] == candidate.deployment
    assert document["champion"] == {"version": "1", "deployment": loop.repos.production.get().champion_deployment}

    training = document["training_set"]
    assert training["job"] == "train-2" and [f["name"] for f in training["files"]] == ["prod/a.csv", "prod/b.csv"]
    assert training["rows"] == 1200 and [f["rows"] for f in training["files"]] == [600, 600]
    assert training["files"][0]["digest"] == f"sha256:{loop.repos.batches.find(a.name, a.etag).sha256}"
    assert training["first_accepted_at"] == a.decided_at < b.decided_at == training["last_accepted_at"]
    assert training["positives"] is None, "the stored profiles count features, not the label"
    assert training["positive_share"] == 0.3375 and "training split" in training["note"]

    drift = document["training_drift"]
    assert drift["against"] == "champion v1 baseline" and drift["rows"] == 1200
    assert [f["name"] for f in drift["features"]] == [c.name for c in DIABETES_CONTRACT.columns if c.role == FEATURE]
    assert {f["name"] for f in drift["features"] if f["drifted"]} == {"Pregnancies", "Age", "BMI"}, "b.csv's shift"
    assert drift["verdict"] == "drift" and all(f["critical"] > 0 for f in drift["features"])

    assert document["history"]["drift"] == [{"at": check["at"], "verdict": check["verdict"],
                                             "window": f"recent ({check['rows']} rows)",
                                             "drifted": check["drifted_features"]}]
    assert [(p["metric"], p["kind"]) for p in document["history"]["performance"]] == [("auc", "labelled")]
    run_id = document["candidate"]["run_id"]
    assert run_id and document["links"] == {"mlflow_run": f"http://mlflow.test:5000/#/experiments/0/runs/{run_id}",
                                            "drift_report": check["report"]["url"],
                                            "audit": "https://retrain.example/api/audit"}
    assert document["notes"] == []
    assert loop.evidence.for_candidate("diabetes-classifier", "2") == document
    json.dumps(document, allow_nan=False)


def test_without_a_champion_there_is_no_drift_comparison_and_no_history(loop):
    a = loop.ingest("prod/a.csv", rows(DATA / "diabetes-prod.csv", 0, 300))
    trained(loop, "1", [a])
    candidate = loop.register("1")

    document = loop.evidence.for_approval(candidate.approval_id)
    assert document["champion"] is None
    assert document["training_drift"] == {"against": None, "rows": None, "verdict": None, "features": [],
                                          "note": "no champion"}
    assert document["history"] == {"drift": [], "performance": []} and document["links"]["drift_report"] is None
    assert document["verdict"]["line"].endswith("(no champion to compare with); smoke test passed on 2 rows")


def test_verdict_lines_for_a_pass_a_failure_and_no_champion():
    assert evidence.verdict("7", PASSED_GATE, SMOKE) == {"passed": True, "line": (
        "v7 passes the gate: AUC 0.8627 vs champion v6 0.8511 (Δ +0.0116, 95% CI [-0.0040, +0.0270]); "
        "smoke test passed on 15 rows")}
    failed = {**PASSED_GATE, "passed": False, "reasons": ["auc 0.7000 is below the minimum 0.7500", "another"]}
    assert evidence.verdict("7", failed, SMOKE) == {"passed": False, "line": (
        "v7 fails the gate: auc 0.7000 is below the minimum 0.7500; smoke test passed on 15 rows")}
    alone = {**PASSED_GATE, "champion": None, "champion_version": None, "difference": None}
    assert evidence.verdict("1", alone, SMOKE)["line"] == (
        "v1 passes the gate: AUC 0.8627 (no champion to compare with); smoke test passed on 15 rows")
    broken = {**SMOKE, "passed": False, "problems": ["deployment answered HTTP 500"]}
    assert evidence.verdict("7", PASSED_GATE, broken) == {"passed": False, "line": (
        "v7 passes the gate: AUC 0.8627 vs champion v6 0.8511 (Δ +0.0116, 95% CI [-0.0040, +0.0270]); "
        "smoke test failed: deployment answered HTTP 500")}


def test_the_digest_ignores_key_order_and_changes_with_any_value():
    document = {"b": [1, {"y": 2.5, "x": "é"}], "a": None}
    reordered = json.loads(json.dumps({"a": None, "b": [1, {"x": "é", "y": 2.5}]}))
    assert evidence.digest(document) == evidence.digest(reordered)
    assert evidence.digest(document).startswith("sha256:") and len(evidence.digest(document)) == 7 + 64
    assert evidence.digest(document) != evidence.digest({**document, "a": 0})
    expected = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert evidence.digest(document) == "sha256:" + hashlib.sha256(expected).hexdigest()


def test_an_assembled_document_is_plain_json_with_every_field():
    document = evidence.assemble(
        model_name="m", approval_id="m-v2-ab", built_at="2026-11-22T12:00:00.000+00:00",
        candidate={"version": "2", "run_id": None, "requested_by": ("dana",)}, champion=None,
        gate={**PASSED_GATE, "candidate": {"auc": 0.8627, "ece": float("nan")}}, smoke=SMOKE,
        training=evidence.training_set("ts", "job-2", [
            {"name": "a.csv", "etag": "1", "rows": 10, "positives": 4, "accepted_at": "2026-11-02", "digest": None},
            {"name": "b.csv", "etag": "2", "rows": 30, "positives": 6, "accepted_at": "2026-11-01", "digest": None}]),
        drift=evidence.no_training_drift("no champion"), history={}, links={"audit": "https://x/api/audit"},
        artifact_digest="sha256:00")
    assert set(document) >= {"schema", "model_name", "version", "approval_id", "built_at", "verdict", "gate", "smoke",
                             "candidate", "champion", "training_set", "training_drift", "history", "links",
                             "artifact_digest"}
    assert document["gate"]["candidate"]["ece"] is None, "NaN is not JSON"
    assert document["candidate"] == {"version": "2", "run_id": None, "created_by": "", "deployment": "",
                                     "requested_by": ["dana"]}
    training = document["training_set"]
    assert (training["rows"], training["positives"], training["positive_share"]) == (40, 10, 0.25)
    assert (training["first_accepted_at"], training["last_accepted_at"]) == ("2026-11-01", "2026-11-02")
    assert document["links"] == {"mlflow_run": None, "drift_report": None, "audit": "https://x/api/audit"}
    assert document == json.loads(json.dumps(document))


def test_a_rerun_of_the_request_step_reuses_the_stored_document(loop, monkeypatch):
    """The process dies after the document is stored and before the approval is: the step's next
    delivery (later, with the same approval id) finds the document and binds the approval to it."""
    a = loop.ingest("prod/a.csv", rows(DATA / "diabetes-prod.csv", 0, 300))
    trained(loop, "1", [a])
    add, calls = loop.repos.approvals.add, []

    def dies_once(approval):
        calls.append(approval.evidence_digest)
        if len(calls) == 1:
            loop.clock.advance(minutes=5)
            raise PlatformError("the host died")
        add(approval)

    monkeypatch.setattr(loop.repos.approvals, "add", dies_once)
    candidate = loop.register("1")

    assert len(calls) == 2 and calls[0] == calls[1], "the same document both times"
    document = loop.evidence.for_approval(candidate.approval_id)
    assert loop.approvals.get(candidate.approval_id).evidence_digest == calls[0] == evidence.digest(document)
    keys = loop.documents.list_keys("evidence/diabetes-classifier/v1/", 100).keys
    assert keys == [f"evidence/diabetes-classifier/v1/{candidate.approval_id}.json"]


def test_issue_is_idempotent_and_stored_documents_are_never_replaced(loop):
    a = loop.ingest("prod/a.csv", rows(DATA / "diabetes-prod.csv", 0, 300))
    trained(loop, "1", [a])
    candidate = loop.register("1")
    approval = loop.approvals.get(candidate.approval_id)
    stored = loop.evidence.for_approval(approval.id)

    loop.clock.advance(hours=2)
    again, digest = loop.evidence.issue(loop.repos.candidates.get("1"), approval)
    assert again == stored and digest == approval.evidence_digest
    newer = {**loop.evidence.build(loop.repos.candidates.get("1"), approval)}
    assert newer["built_at"] != stored["built_at"]
    assert loop.repos.evidence.add(newer) == stored, "the first document stands"
    assert loop.evidence.for_approval(approval.id) == stored


def test_unknown_documents_are_not_found(loop):
    with pytest.raises(NotFound):
        loop.evidence.for_approval("diabetes-classifier-v9-00000000")
    with pytest.raises(NotFound):
        loop.evidence.for_candidate("diabetes-classifier", "9")
    with pytest.raises(NotFound):
        loop.evidence.for_candidate("another-model", "1")


def test_a_part_that_cannot_be_gathered_is_noted_and_the_document_still_issued(loop, monkeypatch):
    a, b, check, _ = champion_and_candidate(loop)
    trained(loop, "3", [a, b])

    def unavailable(*args, **kwargs):
        raise PlatformError("the registry is down")

    monkeypatch.setattr(loop.platform, "get_baseline_profile", unavailable)
    monkeypatch.setattr(loop.repos.drift_checks, "newest", unavailable)
    candidate = loop.register("3")

    document = loop.evidence.for_approval(candidate.approval_id)
    assert candidate.status == "awaiting_approval"
    assert loop.approvals.get(candidate.approval_id).evidence_digest == evidence.digest(document)
    assert document["verdict"]["passed"] and document["gate"] == candidate.gate
    assert document["training_drift"]["against"] is None and document["training_drift"]["note"] == "not measured"
    assert document["history"] == {"drift": [], "performance": []}
    assert document["links"]["drift_report"] is None
    assert document["notes"] == ["class balance: not gathered (PlatformError)",
                                 "training drift: not gathered (PlatformError)",
                                 "history: not gathered (PlatformError)",
                                 "drift report link: not gathered (PlatformError)"]
    assert document["training_set"]["rows"] == 1200, "the other parts are there"


def test_a_version_whose_training_job_is_unknown_has_an_empty_training_set(loop):
    candidate = loop.register("1")  # no job record, no model event

    training = loop.evidence.for_approval(candidate.approval_id)["training_set"]
    assert training["files"] == [] and training["rows"] is None and training["note"] == "the training job is unknown"


def test_positives_are_read_from_a_profile_that_counts_the_label():
    columns = [replace(c, role=FEATURE) if c.name == "Diabetic" else c for c in DIABETES_CONTRACT.columns]
    profile = new_profile(profile_grids(columns))
    profile.add({"Diabetic": [0.0, 1.0, 1.0, 0.0, 1.0], "Age": [30.0] * 5})
    assert _positives(profile, "Diabetic") == 3
    assert _positives(profile, None) is None
    assert _positives(new_profile(profile_grids(DIABETES_CONTRACT.columns)), "Diabetic") is None


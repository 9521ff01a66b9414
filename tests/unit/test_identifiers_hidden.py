"""Identifier columns (the contract's PatientID) never reach the reviewer: the gate leaves them out of
the disagreement examples, and the evidence document leaves them out of gate records stored before."""
from __future__ import annotations

from dataclasses import replace

from shared.domain import evidence
from shared.domain.evaluation import ScoredRows, disagreement
from tests.unit.test_quality_gate import DATA, GateLoop, trained
from tests.unit.test_monitoring import World, rows


def scored_with_ids() -> ScoredRows:
    return ScoredRows(labels=(0, 1, 0), features={"PatientID": (1490745.0, 1201853.0, 1300001.0),
                                                  "Age": (30.0, 40.0, 50.0)},
                      probabilities={"2": (0.9, 0.1, 0.2), "1": (0.1, 0.9, 0.3)})


def test_the_domain_function_drops_only_the_columns_it_is_told_to():
    assert "PatientID" in disagreement(scored_with_ids(), "2", "1")["examples"][0]["features"]
    found = disagreement(scored_with_ids(), "2", "1", drop=("patientid",))
    assert found["differing"] == 2 and [e["features"] for e in found["examples"]] == [{"Age": 30.0}, {"Age": 40.0}]


def test_the_gate_leaves_identifiers_out_of_the_disagreement_examples():
    loop = GateLoop()
    old = World.accept(loop, "prod/old.csv", rows(DATA / "diabetes-prod.csv", 0, 300))
    trained(loop, "1", [old])
    loop.promote("1")
    World.accept(loop, "prod/new.csv", rows(DATA / "diabetes-prod.csv", 300, 300))
    trained(loop, "2", [old])
    scoring = loop.platform.predict_proba

    def with_ids(model_name, versions, source):  # a platform whose rows keep every column of the file
        found = scoring(model_name, versions, source)
        return replace(found, features={"PatientID": tuple(float(i) for i in range(found.rows)), **found.features})

    loop.platform.predict_proba = with_ids
    candidate = loop.register("2", auc=0.7)

    examples = candidate.gate["disagreement"]["examples"]
    assert examples and all("PatientID" not in e["features"] and "Age" in e["features"] for e in examples)


def test_the_evidence_document_drops_identifiers_from_a_gate_stored_before():
    gate = {"passed": True, "disagreement": {"rows": 3, "examples": [
        {"features": {"PatientID": 1490745, "Age": 24}, "candidate": 0.6, "champion": 0.4}, "odd"]}}
    document = evidence.assemble(
        model_name="m", approval_id="a1", built_at="2026-01-01T00:00:00Z", candidate={"version": "2"}, champion=None,
        gate=gate, smoke={}, training={}, drift={}, history={}, links={}, artifact_digest="")
    assert document["gate"]["disagreement"]["examples"] == [
        {"features": {"Age": 24}, "candidate": 0.6, "champion": 0.4}, "odd"]
    assert gate["disagreement"]["examples"][0]["features"]["PatientID"] == 1490745, "the input is not changed"
    assert "1490745" not in evidence.canonical(document)

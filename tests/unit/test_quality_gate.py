"""The quality gate and the estimate without labels as services, on fakes: which rows are scored, what is
recorded with the candidate and shown to the reviewer, and when an estimate asks for retraining."""
from __future__ import annotations

from pathlib import Path

from shared.domain.candidates import AWAITING_APPROVAL, GATE_FAILED
from shared.domain.clock import iso
from shared.domain.models import ModelRegistered
from shared.domain.training import COMPLETED, TrainingJob
from tests.unit.test_monitoring import World, rows
from tests.builders import ENDPOINT
from tests.unit.test_outer_loop import MODEL, Loop

DATA = Path(__file__).resolve().parents[2] / "data"


def trained(loop, version: str, batches) -> None:
    """The registration event and the job of `version`, trained on `batches`."""
    loop.repos.model_events.add(ModelRegistered(MODEL, version, "eventgrid", f"d-{version}",
                                                tags={"job_name": f"train-{version}"}), iso(loop.clock()))
    loop.repos.jobs.add(TrainingJob(f"train-{version}", MODEL, COMPLETED, [b.ref.to_dict() for b in batches], "ts",
                                    iso(loop.clock())))


class GateLoop(Loop, World):
    """The outer loop with accepted files (World.accept) and captured traffic."""

    def __init__(self):
        Loop.__init__(self)


def test_the_gate_scores_both_on_the_held_out_split_and_the_newest_file_neither_trained_on():
    loop = GateLoop()
    old = World.accept(loop, "prod/old.csv", rows(DATA / "diabetes-prod.csv", 0, 300))
    trained(loop, "1", [old])
    loop.promote("1")
    new = World.accept(loop, "prod/new.csv", rows(DATA / "diabetes-prod.csv", 300, 300))
    trained(loop, "2", [old])  # v2's job started before prod/new.csv arrived
    live = loop.repos.production.get().champion_deployment
    loop.captures.add(live, rows(DATA / "diabetes-prod.csv", 600, 30), hour="2026-11-22T10:00:00Z")
    loop.captures.add(live, rows(DATA / "diabetes-prod.csv", 630, 20), hour="2026-11-22T11:00:00Z")

    candidate = loop.register("2")

    assert candidate.status == AWAITING_APPROVAL, candidate.history
    gate = candidate.gate
    assert gate["evaluated_on"] == "held-out split of v2 (400 rows) + prod/new.csv (300 rows)" and gate["rows"] == 700
    assert gate["difference"]["lower"] <= 0 <= gate["difference"]["upper"] and gate["difference"]["resamples"] == 1000
    assert {"auc", "brier", "ece", "sensitivity", "specificity"} <= set(gate["candidate"]) <= set(gate["champion"])
    assert [g["name"] for g in gate["subgroups"]][:3] == ["Age < 30", "30 ≤ Age < 50", "Age ≥ 50"]
    assert gate["disagreement"]["rows"] == 350 and gate["disagreement"]["share"] == 0, "same figures: same answers"
    assert "prod/new.csv (300 rows) + captured live traffic (50 rows)" in gate["disagreement"]["evaluated_on"]
    approval = loop.approvals.get(candidate.approval_id)
    assert approval.gate == gate, "the approval request carries every figure"
    note = loop.notifier.sent[-1]
    assert {"interval", "subgroups", "calibration", "operating point", "disagreement"} <= set(note.facts)
    assert "95% CI" in note.facts["interval"] and any(row[0] == "Δ auc 95% CI" for row in note.table)


def test_a_subgroup_regression_fails_the_gate_and_names_the_slice():
    loop = Loop()
    loop.promote("1")
    loop.platform.probability_overrides = {"2": lambda features, p: 0.5 if features["Age"] >= 50 else p}

    candidate = loop.register("2")

    assert candidate.status == GATE_FAILED
    assert "subgroup Age ≥ 50" in candidate.history[-1]["detail"]
    failed = next(g for g in candidate.gate["subgroups"] if g["name"] == "Age ≥ 50")
    assert failed["regressed"] and failed["judged"]
    assert loop.notifier.sent[-1].kind == "candidate.gate_failed" and "subgroups" in loop.notifier.sent[-1].facts


def unlabelled(data: bytes) -> bytes:
    """Rows as the endpoint captures them: the model's inputs, no identifier, no label."""
    lines = [line.split(",") for line in data.decode().splitlines()]
    return "\n".join(",".join(cells[1:-1]) for cells in lines).encode() + b"\n"


def live_world(max_ece: str) -> World:
    world = World(triggers=("estimated",), CBPE_MAX_ECE=max_ece)
    world.champion()
    world.captures.add("d-v1", unlabelled(rows(DATA / "diabetes-prod.csv", 0, 250)), hour="2026-11-22T09:00:00Z")
    world.captures.add("d-v1", unlabelled(rows(DATA / "diabetes-prod.csv", 250, 150)), hour="2026-11-22T10:00:00Z")
    # On live traffic the champion has become unsure of everything: a coin flip, AUC 0.5 expected.
    world.platform.probability_overrides = {"1": lambda features, p: 0.5 if "TricepsThickness" in features else p}
    return world


def test_an_estimate_on_live_traffic_is_recorded_beside_the_labelled_figures_and_a_drop_asks_for_retraining():
    world = live_world(max_ece="1")

    record = world.performance.estimate_from_traffic()

    assert record["kind"] == "estimated" and record["rows"] == 400 and record["file"] is None
    assert record["metrics"] == {"accuracy": 0.5, "auc": 0.5}
    assert record["reference"]["auc"] > 0.85 and record["drop"] > 0.35
    assert record["calibration"]["heldout_rows"] == 400 and record["valid"] and record["dropped"]
    assert record["retraining"]["retrain"] is True
    assert "CBPE" in world.training.pending_request()["reasons"][0]
    assert world.performance.history()[0] == record, "in the monitoring history beside the labelled performance"


def test_an_estimate_from_a_badly_calibrated_champion_is_not_valid_and_asks_for_nothing():
    world = live_world(max_ece="0")

    record = world.performance.estimate_from_traffic()

    assert record["valid"] is False and record["dropped"] is False and "not valid" in record["note"]
    assert "retraining" not in record and world.training.pending_request() is None


def test_no_estimate_without_enough_live_rows():
    world = live_world(max_ece="1")
    world.captures.files.clear()
    world.captures.add("d-v1", unlabelled(rows(DATA / "diabetes-prod.csv", 0, 50)))
    assert world.performance.estimate_from_traffic() is None
    assert world.performance.history() == []


def test_the_disagreement_reads_the_captured_hours_newest_first():
    """The gate takes at most GATE_RECENT_ROWS rows of the captured stream: its newest hours come first."""
    loop = GateLoop()
    old = World.accept(loop, "prod/old.csv", rows(DATA / "diabetes-prod.csv", 0, 300))
    trained(loop, "1", [old])
    loop.promote("1")
    trained(loop, "2", [old])
    live = loop.repos.production.get().champion_deployment
    hours = [f"2026-11-22T{hour:02d}:00:00Z" for hour in range(10)]
    for n, hour in enumerate(hours):
        loop.captures.add(live, unlabelled(rows(DATA / "diabetes-prod.csv", 1000 + 20 * n, 20)), hour=hour)

    candidate = loop.register("2")

    assert "captured live traffic (200 rows)" in candidate.gate["disagreement"]["evaluated_on"]
    assert loop.captures.reads == [f"{ENDPOINT}/{live}/{hour}" for hour in reversed(hours)]

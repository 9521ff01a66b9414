"""The dashboard's figures on fakes: files and verdicts, jobs, candidates and their step, pending
approvals with expiry, production and the previous champion, trends, messages given up on; bounded."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from shared.domain.errors import PlatformError
from shared.domain.models import ModelRegistered
from tests.builders import MODEL, FakeWorld


def registered(world: FakeWorld, version: str):
    world.platform.register_model_version(MODEL, version)
    return world.candidates.handle_registered(ModelRegistered(MODEL, version, "mlflow-webhook", f"d-{version}"))


def promoted(world: FakeWorld, version: str):
    candidate = registered(world, version)
    world.approvals.decide(candidate.approval_id, "approve", "ada")
    return world.repos.candidates.get(version)


def test_files_show_each_verdict_newest_first(world, dev_csv):
    world.files.upload("data", "good.csv", dev_csv)
    world.ingestion.handle_new_file("data", "good.csv")
    world.clock.advance(seconds=5)
    world.files.upload("data", "bad.csv", b"not,a,diabetes\nfile,at,all\n")
    world.ingestion.handle_new_file("data", "bad.csv")

    files = world.dashboard.overview()["files"]

    assert [(f["name"], f["status"]) for f in files] == [("bad.csv", "rejected"), ("good.csv", "accepted")]
    assert files[1]["rows"] > 0 and files[0]["problem_count"] > 0


def test_candidates_show_the_step_they_are_at_and_pending_approvals_their_expiry():
    world = FakeWorld(inline_steps=False)
    world.platform.register_model_version(MODEL, "1")
    world.candidates.handle_registered(ModelRegistered(MODEL, "1", "mlflow-webhook", "d-1"))
    message_id, body, _ = world.queue.pending.pop(0)
    world.steps.run(body, message_id, 1)  # the gate ran: the staging deployment is due

    [candidate] = world.dashboard.overview()["candidates"]
    assert (candidate["version"], candidate["step"], candidate["step_label"]) == ("1", "deploy", "staging deployment")

    world.queue.drain()
    approval = world.repos.approvals.get(world.repos.candidates.get("1").approval_id)
    now = world.clock() + timedelta(hours=1)
    [pending] = world.dashboard.overview(now)["approvals"]
    assert pending["id"] == approval.id and pending["expires_at"] == approval.expires_at
    assert pending["expires_in_seconds"] == int((datetime.fromisoformat(approval.expires_at) - now).total_seconds())
    assert pending["expires_in_seconds"] == 71 * 3600 and not pending["expired"]
    assert world.dashboard.overview(world.clock() + timedelta(days=4))["approvals"][0]["expired"] is True


def test_production_shows_the_champion_and_the_previous_champion(world):
    promoted(world, "1")
    promoted(world, "2")

    production = world.dashboard.overview()["production"]

    assert (production["champion_version"], production["previous_version"]) == ("2", "1")
    assert production["champion_deployment"] == "diabetes-classif-v2"
    assert world.dashboard.overview()["approvals"] == []


def test_a_step_message_that_failed_for_good_is_recorded_and_shown(world):
    world.endpoints.fail["ensure_endpoint"] = PlatformError("ARM is down")

    registered(world, "1")

    [poisoned] = world.dashboard.overview()["messages"]["poisoned_steps"]
    assert (poisoned["kind"], poisoned["subject"], poisoned["step"], poisoned["tries"]) == ("candidate", "1", "deploy", 5)
    assert "ARM is down" in poisoned["reason"] and len(world.queue.poison) == 1


def test_unreadable_and_unconfirmed_messages_are_shown(world):
    world.repos.malformed_events.keep({"queue_message": "{"}, "step message is not JSON", world.clock())
    world.model_events.receive_event_grid({"id": "e1", "eventType": "Microsoft.MachineLearningServices.ModelRegistered",
                                           "subject": "models/diabetes-classifier/9", "data": {"modelName": MODEL,
                                                                                            "modelVersion": "9"}})
    messages = world.dashboard.overview()["messages"]

    assert {"what": "step message", "reason": "step message is not JSON"}.items() <= messages["malformed"][0].items()
    assert [r["version"] for r in messages["rejected_model_events"]] == ["9"]  # the registry has no v9


def test_trends_read_oldest_first_with_the_figure_of_each_record(world):
    for i, (verdict, share) in enumerate([("no_drift", 0.0), ("drift", 0.5), ("no_drift", 0.125)]):
        world.repos.drift_checks.add({"id": f"check-{i}", "at": (world.clock() + timedelta(hours=i)).isoformat(),
                                      "verdict": verdict, "champion_version": "1", "rows": 100 + i,
                                      "drifted_share": share, "drifted_features": ["bmi"] if share else []})
    world.repos.performance.add("labelled.csv", "etag-1", {
        "at": world.clock().isoformat(), "file_decided_at": world.clock().isoformat(), "file": "labelled.csv",
        "champion_version": "1", "metrics": {"auc": 0.81}, "metric": "auc", "dropped": False})
    world.repos.performance.add_estimate({
        "id": "estimate-1", "at": (world.clock() + timedelta(hours=2)).isoformat(), "kind": "estimated",
        "file": None, "champion_version": "1", "metrics": {"auc": 0.7}, "metric": "auc", "dropped": True})

    trends = world.dashboard.overview()["trends"]

    assert [(d["verdict"], d["drifted_share"]) for d in trends["drift"]] == [
        ("no_drift", 0.0), ("drift", 0.5), ("no_drift", 0.125)]
    assert [(p["value"], p["kind"], p["dropped"]) for p in trends["performance"]] == [
        (0.81, "labelled", False), (0.7, "estimated", True)]


def test_every_listing_is_bounded_and_no_link_fingerprint_leaves(world):
    for i in range(25):
        world.training.request_training(None, f"run {i}", ["bob"])
        world.clock.advance(seconds=11)
        world.training.submit_due_training()
    registered(world, "1")
    approval = world.repos.approvals.get(world.repos.candidates.get("1").approval_id)
    world.repos.approvals.change(approval.id, lambda a: a.used_links.append("fingerprint-of-a-used-link"))

    overview = world.dashboard.overview()

    assert len(overview["jobs"]) == 20 and overview["jobs"][0]["reason"] == "run 24"
    text = json.dumps(overview)
    assert "fingerprint-of-a-used-link" not in text and "used_links" not in text

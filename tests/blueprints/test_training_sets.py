"""GET /api/training-sets/current in process: the batches and manifest id the next job would read."""
from __future__ import annotations

from pathlib import Path

from shared.domain.training import training_set_id
from tests.blueprints.conftest import FUNCTIONS, call, request

CSV = (Path(__file__).resolve().parents[2] / "data" / "diabetes-dev.csv").read_bytes()


def accept(world, name: str, body: bytes = CSV) -> None:
    world.files.upload("data", name, body)
    world.ingestion.handle_new_file("data", name)


def test_the_current_training_set_lists_each_accepted_version_with_its_immutable_copy(world):
    accept(world, "landing/a.csv")
    accept(world, "landing/2026/ünïcode b.csv", CSV.replace(b"\n", b"\r\n"))

    status, body = call("current_training_set", request("GET", "training-sets/current"))

    accepted = world.training.accepted_data()
    assert status == 200 and body["count"] == 2 == len(accepted)
    assert body["model_name"] == "diabetes-classifier"
    assert body["training_set_id"] == training_set_id(accepted)
    assert body["parameters"] == {"algorithm": "logistic_regression"}
    assert [b["name"] for b in body["batches"]] == ["landing/a.csv", "landing/2026/ünïcode b.csv"]
    for batch, ref in zip(body["batches"], accepted):
        assert batch["copy_name"] == ref.copy_name and batch["copy_name"].startswith("_accepted/")
        assert batch["copy_name"].endswith(batch["sha256"]) and batch["copy_etag"] and batch["etag"]
        assert batch["id"] == ref.id and batch["container"] == "data"


def test_a_re_uploaded_file_counts_once_in_its_newest_version(world):
    accept(world, "landing/a.csv")
    first = call("current_training_set", request("GET", "training-sets/current"))[1]
    world.clock.advance(minutes=1)
    accept(world, "landing/a.csv", CSV + CSV.split(b"\n", 1)[1])

    status, body = call("current_training_set", request("GET", "training-sets/current"))

    assert status == 200 and body["count"] == 1
    assert body["training_set_id"] != first["training_set_id"]
    assert body["batches"][0]["sha256"] != first["batches"][0]["sha256"]


def test_a_withdrawn_file_leaves_the_training_set(world):
    accept(world, "landing/a.csv")
    accept(world, "landing/b.csv", CSV.replace(b"\n", b"\r\n"))
    call("withdraw_data", request("DELETE", "data/x", {"reviewer": "dana"}, route_params={"name": "landing/a.csv"}))

    status, body = call("current_training_set", request("GET", "training-sets/current"))

    assert status == 200 and [b["name"] for b in body["batches"]] == ["landing/b.csv"]


def test_no_accepted_data_is_a_404_naming_the_problem(world):
    status, body = call("current_training_set", request("GET", "training-sets/current"))
    assert status == 404 and "no accepted data" in body["error"]

    world.files.upload("data", "landing/bad.csv", b"not,a,diabetes,file\n1,2,3,4\n")
    world.ingestion.handle_new_file("data", "landing/bad.csv")  # rejected: not in any training set
    status, body = call("current_training_set", request("GET", "training-sets/current"))
    assert status == 404 and "upload a data file" in body["error"]


def test_the_route_needs_a_function_key():
    trigger = FUNCTIONS["current_training_set"].get_trigger()
    assert trigger.route == "training-sets/current" and [str(m.value) for m in trigger.methods] == ["GET"]
    assert trigger.auth_level.value == "function"

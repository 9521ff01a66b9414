"""DELETE /api/data/{name} in process: withdrawal, 404 for an unknown name, 400 for a bad request."""
from __future__ import annotations

from tests.blueprints.conftest import call, request

CSV = (__import__("pathlib").Path(__file__).resolve().parents[2] / "data" / "diabetes-dev.csv").read_bytes()


def test_a_withdrawn_file_is_shown_withdrawn_and_leaves_the_training_data(world):
    name = "landing/2026/ünïcode name.csv"
    world.files.upload("data", name, CSV)
    world.ingestion.handle_new_file("data", name)

    status, body = call("withdraw_data", request("DELETE", "data/x", {"reviewer": "dana"}, route_params={"name": name}))

    assert status == 200 and body["name"] == name and len(body["versions"]) == 1
    assert world.training.accepted_data() == []
    status, listed = call("list_data", request("GET", "data"))
    assert status == 200 and listed["files"][0]["withdrawn_at"] == body["withdrawn_at"]
    assert [e["file"] for e in world.audit.entries if e["action"] == "data_withdrawn"] == [name]


def test_an_unknown_name_is_404_and_a_bad_request_is_400(world):
    status, body = call("withdraw_data", request("DELETE", "data/x", {"reviewer": "dana"},
                                                 route_params={"name": "nope.csv"}))
    assert status == 404 and "unknown" in body["error"]
    status, body = call("withdraw_data", request("DELETE", "data/x", {"reviewer": "dana"},
                                                 route_params={"name": "x" * 1025}))
    assert status == 400 and "1024" in body["error"]
    status, body = call("withdraw_data", request("DELETE", "data/x", route_params={"name": "nope.csv"}))
    assert status == 400 and "reviewer" in body["error"]

"""End to end on the local stack: training data that nothing a person does to the data container can
break. A re-uploaded file is trained on in its new version, a deleted original is still trained on
from its kept copy, long and Unicode names work, and a withdrawn file leaves later training sets."""
from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from devstack.client import ApiClient, upload_file, wait_for

pytestmark = pytest.mark.e2e
DATA = Path(__file__).resolve().parents[2] / "data"
ROWS = (DATA / "diabetes-prod.csv").read_text().splitlines()


def part(index: int, rows: int = 400) -> bytes:
    """A valid file of `rows` rows of diabetes-prod.csv, different bytes for each index."""
    start = 1 + (index * rows) % (len(ROWS) - rows - 1)
    return ("\n".join([ROWS[0], *ROWS[start:start + rows]]) + "\n").encode()


def versions(api: ApiClient, name: str) -> list[dict]:
    return [f for f in api.get_json("/api/data?limit=200")["files"] if f["name"] == name]


def accepted(api: ApiClient, name: str, etag: str) -> dict:
    return wait_for(f"{name[:40]}… accepted", lambda: next(
        (f for f in versions(api, name) if f["etag"] == etag and f["status"] == "accepted"), None), 60)


def finished_job_with(api: ApiClient, name: str, etag: str) -> dict:
    """The newest job that trained on that version of `name`, once it has finished."""
    def probe():
        jobs = [j for j in api.get_json("/api/jobs?limit=200")["jobs"]
                if any(b["name"] == name and b["etag"] == etag for b in j["batches"])]
        if jobs and jobs[0]["status"] in ("completed", "failed"):
            return jobs[0]
        return None

    return wait_for(f"a finished job on {name[:40]}…", probe, 240, interval=1)


def test_a_re_uploaded_file_is_trained_on_in_its_new_version(local_stack, api):
    name = f"incoming/corrected-{uuid.uuid4().hex[:6]}.csv"
    first_etag = upload_file(local_stack.storage_connection, "data", name, part(1))
    first = accepted(api, name, first_etag)
    assert finished_job_with(api, name, first_etag)["status"] == "completed"

    second_etag = upload_file(local_stack.storage_connection, "data", name, part(2))
    second = accepted(api, name, second_etag)
    job = finished_job_with(api, name, second_etag)

    assert job["status"] == "completed", job["log_tail"] + job.get("error", "")
    assert [b["etag"] for b in job["batches"] if b["name"] == name] == [second_etag]
    listed = {f["etag"]: f for f in versions(api, name)}
    assert listed[first_etag]["superseded_by"] == second["id"] and listed[second_etag]["superseded_by"] is None
    assert first["copy_name"] != second["copy_name"] and second["copy_name"].startswith("_accepted/")


def test_deleting_an_accepted_original_changes_nothing_for_the_next_job(local_stack, api):
    from azure.storage.blob import BlobServiceClient

    name = f"incoming/deleted-{uuid.uuid4().hex[:6]}.csv"
    etag = upload_file(local_stack.storage_connection, "data", name, part(3))
    accepted(api, name, etag)
    BlobServiceClient.from_connection_string(local_stack.storage_connection).get_blob_client(
        "data", name).delete_blob()

    job = finished_job_with(api, name, etag)

    assert job["status"] == "completed", job["log_tail"] + job.get("error", "")


def test_long_and_unicode_names_are_accepted_trained_on_and_withdrawn(local_stack, api):
    tag = uuid.uuid4().hex[:6]
    long_name = f"incoming/{tag}-" + "n" * (300 - len(f"incoming/{tag}-") - len(".csv")) + ".csv"
    unicode_name = (f"incoming/{tag}/données ü/" + "模型数据-é" * 200)[:996] + ".csv"
    assert len(long_name.encode()) == 300 and len(unicode_name) == 1000
    etags = {n: upload_file(local_stack.storage_connection, "data", n, part(i))
             for i, n in enumerate((long_name, unicode_name), start=4)}
    for name, etag in etags.items():
        accepted(api, name, etag)

    job = finished_job_with(api, unicode_name, etags[unicode_name])

    assert job["status"] == "completed", job["log_tail"] + job.get("error", "")
    assert {long_name, unicode_name} <= {b["name"] for b in job["batches"]}
    withdrawn = api.request("DELETE", f"/api/data/{quote(unicode_name, safe='/')}", {"reviewer": "e2e"})
    assert withdrawn.status == 200, withdrawn.body[:300]
    assert withdrawn.json()["name"] == unicode_name
    assert versions(api, unicode_name)[0]["withdrawn_at"] == withdrawn.json()["withdrawn_at"]
    unknown = api.request("DELETE", f"/api/data/{quote(unicode_name[:-4], safe='/')}.txt", {"reviewer": "e2e"})
    assert unknown.status == 404 and b"unknown" in unknown.body
    assert api.request("POST", "/api/training/request", {"reason": "after a withdrawal"}).status == 202
    after = wait_for("a job without the withdrawn file", lambda: next(
        (j for j in api.get_json("/api/jobs?limit=200")["jobs"] if "after a withdrawal" in j["reason"]
         and j["status"] in ("completed", "failed")), None), 240, interval=1)
    assert after["status"] == "completed", after["log_tail"]
    assert long_name in {b["name"] for b in after["batches"]}
    assert unicode_name not in {b["name"] for b in after["batches"]}

"""Who asked for a training job is recorded with it: the uploader a blob's metadata names, a manual request."""
from __future__ import annotations


def test_the_uploader_in_the_blobs_metadata_becomes_a_requester_of_the_job(world, dev_csv):
    world.files.upload("data", "dev.csv", dev_csv, metadata={"Uploaded_By": " carol@contoso.com "})
    batch = world.ingestion.handle_new_file("data", "dev.csv")
    assert batch.uploaded_by == "carol@contoso.com"
    world.training.request_training(None, "new code", requested_by=["bob", "carol@contoso.com"])
    assert world.repos.training_requests.open()["requested_by"] == ["carol@contoso.com", "bob"]
    world.clock.advance(seconds=11)
    job = world.training.submit_due_training()
    assert world.repos.jobs.get(job.name).requested_by == ["carol@contoso.com", "bob"]


def test_a_file_without_uploader_metadata_names_nobody(world, dev_csv):
    world.files.upload("data", "dev.csv", dev_csv)
    assert world.ingestion.handle_new_file("data", "dev.csv").uploaded_by == ""
    assert world.repos.training_requests.open()["requested_by"] == []

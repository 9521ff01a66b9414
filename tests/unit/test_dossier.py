"""The dossier of a model version on fakes: the candidate, its evidence and digest, its approvals and
who decided, traffic changes, its audit entries (no other version's) and the audit chain's check."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from shared.domain.errors import Forbidden, NotFound
from shared.domain.models import ModelRegistered
from shared.services.dossier import safe_file_name
from tests.builders import MODEL, FakeWorld


def registered(world: FakeWorld, version: str):
    world.platform.register_model_version(MODEL, version)
    return world.candidates.handle_registered(ModelRegistered(MODEL, version, "mlflow-webhook", f"d-{version}"))


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def plain(document, note):
    return f"<p>{'evidence ' + document['version'] if document else note}</p>"


def test_the_archive_holds_the_json_the_evidence_page_and_a_readme(world):
    registered(world, "1")

    archive = world.dossier.archive("1", plain)

    files = unzip(archive.content)
    assert sorted(files) == ["README.txt", "dossier.json", "evidence.html"]
    assert archive.file_name == "diabetes-classifier-v1-dossier.zip" and archive.media_type == "application/zip"
    doc = json.loads(files["dossier.json"])
    assert doc["candidate"]["version"] == "1" and doc["candidate"]["gate"] == world.repos.candidates.get("1").gate
    assert files["evidence.html"].decode() == "<p>evidence 1</p>"
    assert b"dossier.json" in files["README.txt"] and b"evidence.html" in files["README.txt"]


def test_the_evidence_document_and_its_digest_are_those_the_approval_was_issued_with(world):
    candidate = registered(world, "1")
    approval = world.repos.approvals.get(candidate.approval_id)

    evidence = world.dossier.document("1")["evidence"]

    assert evidence["document"] == world.evidence.for_approval(approval.id)
    assert evidence["digest"] == world.evidence.digest(evidence["document"]) and evidence["digest"].startswith("sha256:")
    assert (evidence["document"]["version"], evidence["document"]["approval_id"]) == ("1", approval.id)
    assert "files" in evidence["document"]["training_set"]


def test_a_version_without_evidence_says_why(world):
    world.endpoints.fail["ensure_endpoint"] = RuntimeError("no staging")
    registered(world, "1")  # fails at the staging deployment: no approval request, no evidence

    doc = world.dossier.document("1")

    assert doc["evidence"]["document"] is None and "never reached an approval request" in doc["evidence"]["note"]
    assert unzip(world.dossier.archive("1", plain).content)["evidence.html"].decode() == f"<p>{doc['evidence']['note']}</p>"


def test_approvals_who_decided_refusals_and_traffic_changes_of_that_version_only():
    world = FakeWorld(APPROVERS="ada,bob")
    first = registered(world, "1")
    with pytest.raises(Forbidden):
        world.approvals.decide(first.approval_id, "approve", "mallory")
    world.approvals.decide(first.approval_id, "approve", "ada", "looks right")
    second = registered(world, "2")
    with pytest.raises(Forbidden):
        world.approvals.decide(second.approval_id, "approve", "eve")
    world.approvals.decide(second.approval_id, "approve", "bob")

    doc = world.dossier.document("1")

    assert [(a["id"], a["status"], a["decided_by"]) for a in doc["approvals"]] == [(first.approval_id, "approved", "ada")]
    assert doc["decisions"] == [{"approval_id": first.approval_id, "status": "approved", "decided_by": "ada",
                                 "decided_at": doc["approvals"][0]["decided_at"], "decided_via": "api",
                                 "comment": "looks right"}]
    assert all("used_links" not in a for a in doc["approvals"])
    assert [(r["actor"], r["approval_id"]) for r in doc["refusals"]] == [("mallory", first.approval_id)]
    actions = [(c["action"], c["version"]) for c in doc["traffic"]["changes"]]
    assert actions == [("approval_requested", "1"), ("promoted", "1"), ("promoted", "2")]  # v2 took its traffic
    assert doc["traffic"]["role_now"] == "previous champion"
    versions = {(e.get("version"), e.get("previous_version")) for e in doc["audit"]["entries"]}
    assert all("1" in pair for pair in versions)


def test_the_chain_check_of_the_audit_log_is_included_and_names_a_tampered_entry(world):
    registered(world, "1")
    assert world.dossier.document("1")["audit"]["chain"]["ok"] is True

    world.audit.entries[0]["actor"] = "mallory"

    chain = world.dossier.document("1")["audit"]["chain"]
    assert chain["ok"] is False and chain["first_broken"]["index"] == 0 and "edited" in chain["first_broken"]["reason"]


def test_an_unknown_version_is_not_found(world):
    with pytest.raises(NotFound):
        world.dossier.archive("7", plain)


@pytest.mark.parametrize("model, version, expected", [
    ("diabetes-classifier", "12", "diabetes-classifier-v12-dossier.zip"),
    ('a"; filename="x.exe', "3", "a_filename_x.exe-v3-dossier.zip"),
    ("../../etc/passwd", "1", "etc_passwd-v1-dossier.zip"),
    ("m", "1\r\nSet-Cookie: x", "m-v0-dossier.zip"),
])
def test_the_file_name_is_letters_digits_dots_dashes_only(model, version, expected):
    assert safe_file_name(model, version) == expected

"""Bound to what was reviewed: the approval's digests of the artifacts and the evidence, the link token
over both, a decision on a changed candidate voids the approval (409, recorded, nothing else changes),
and the promote step moves traffic only to a deployment that serves exactly the approved version."""
from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest

from shared.domain.candidates import FAILED, PENDING, PROMOTION_FAILED, VOID
from shared.domain.errors import Conflict, NotFound, Unauthorized
from shared.domain.models import ModelRegistered
from shared.ports import artifact_digest
from tests.builders import ENDPOINT, MODEL, FakeWorld

CHANGED_FILES = {"MLmodel": b"flavors: sklearn\n", "model.skops": b"other weights"}


class Binding(FakeWorld):
    def register(self, version: str):
        self.platform.scores[version] = {"auc": 0.9, "accuracy": 0.8}
        candidate = self.services.candidates.handle_registered(ModelRegistered(MODEL, version, "mlflow-webhook", f"d-{version}"))
        self.queue.drain()
        return self.repos.candidates.get(candidate.version)

    def champion_and_candidate(self):
        """v1 in production, v2 awaiting approval."""
        first = self.register("1")
        self.approvals.decide(first.approval_id, "approve", "ada@example.com")
        self.queue.drain()
        assert self.repos.production.get().champion_version == "1"
        return self.register("2")

    def token(self, kind: str) -> str:
        return parse_qs(urlparse(self.notifier.sent[-1].links[kind]).query)["token"][0]

    def evidence_key(self, approval_id: str) -> str:
        [key] = [k for k in self.documents.docs if k.startswith("evidence/") and k.endswith(f"/{approval_id}.json")]
        return key

    def tamper_evidence(self, approval_id: str, **fields) -> None:
        """What someone with write access to the state store would do: the create-only document rewritten."""
        key = self.evidence_key(approval_id)
        stored = self.documents.get(key)
        self.documents.replace(key, {**stored.doc, **fields}, stored.etag)

    def production_state(self):
        production = self.repos.production.get()
        return production.champion_version, production.champion_deployment, self.endpoints.get_endpoint(ENDPOINT).traffic

    def entries(self, action: str) -> list[dict]:
        return [e for e in self.audit.read(100) if e["action"] == action]


@pytest.fixture
def world():
    return Binding()


def test_the_approval_records_the_digests_of_what_is_reviewed(world):
    candidate = world.register("1")
    approval = world.approvals.get(candidate.approval_id)
    document = world.evidence.for_approval(approval.id)
    assert approval.artifact_digest == world.platform.model_artifact_digest(MODEL, "1") == document["artifact_digest"]
    assert approval.evidence_digest == world.evidence.digest(document)
    assert approval.artifact_digest.startswith("sha256:") and approval.evidence_digest.startswith("sha256:")


@pytest.mark.parametrize("field", ["artifact_digest", "evidence_digest"])
def test_the_link_token_is_bound_to_both_digests(world, field):
    candidate = world.register("1")
    token, view = world.token("Approve"), world.token("Details")
    world.approvals.check_link(candidate.approval_id, "approve", token)  # genuine as issued
    world.repos.approvals.change(candidate.approval_id, lambda a: setattr(a, field, "sha256:" + "0" * 64))

    for action, signed in (("approve", token), ("view", view)):
        with pytest.raises(Unauthorized):
            world.approvals.check_link(candidate.approval_id, action, signed)
    with pytest.raises(Unauthorized):
        world.approvals.decide(candidate.approval_id, "approve", "ada@example.com", via="link", link_token=token)
    assert world.approvals.get(candidate.approval_id).status == PENDING


def test_a_forged_link_to_an_unknown_approval_is_refused_as_forged(world):
    world.register("1")
    with pytest.raises(Unauthorized):
        world.approvals.check_link("appr-unknown", "approve", world.token("Approve"))


def test_a_changed_artifact_voids_the_approval_with_409_and_changes_nothing_else(world):
    candidate = world.champion_and_candidate()
    before = world.production_state()
    reviewed = world.approvals.get(candidate.approval_id).artifact_digest
    world.platform.set_artifacts(MODEL, "2", CHANGED_FILES)

    with pytest.raises(Conflict) as caught:
        world.approvals.decide(candidate.approval_id, "approve", "ada@example.com", "ship it")
    world.queue.drain()

    assert "void" in caught.value.message and "artifact files of model version v2 changed" in caught.value.message
    approval = world.approvals.get(candidate.approval_id)
    assert approval.status == VOID and approval.decided_via is None and approval.comment == ""
    assert "artifact files" in approval.reason
    [voided] = world.entries("voided")
    assert voided["actor"] == "ada@example.com" and voided["version"] == "2" and voided["decision"] == "approve"
    assert voided["artifact_digest"] == reviewed and world.platform.model_artifact_digest(MODEL, "2") in voided["reason"]
    assert len(voided["changed"]) == 1
    assert world.production_state() == before and world.entries("promoted")[-1]["version"] == "1"
    assert world.repos.candidates.get("2").status == FAILED  # so a redeploy asks again (test_void_recovery.py)
    with pytest.raises(Conflict, match="already void"):  # and it stays void: no decision, no second entry
        world.approvals.decide(candidate.approval_id, "reject", "bob@example.com")
    assert len(world.entries("voided")) == 1


def test_a_changed_evidence_document_voids_the_approval_on_any_decision(world):
    candidate = world.champion_and_candidate()
    before = world.production_state()
    world.tamper_evidence(candidate.approval_id, verdict={"passed": True, "line": "v2 is flawless"})

    with pytest.raises(Conflict, match="evidence document changed"):
        world.approvals.decide(candidate.approval_id, "reject", "bob@example.com", via="link",
                               link_token=world.token("Reject"))

    assert world.approvals.get(candidate.approval_id).status == VOID
    [voided] = world.entries("voided")
    assert voided["via"] == "link" and voided["decision"] == "reject" and "evidence" in voided["changed"][0]
    assert world.production_state() == before
    assert world.repos.candidates.get("2").failed_step == "approval request"
    assert candidate.deployment in {d.name for d in world.endpoints.get_endpoint(ENDPOINT).deployments}


def test_a_missing_evidence_document_or_model_version_voids_it_too(world):
    candidate = world.champion_and_candidate()
    del world.documents.docs[world.evidence_key(candidate.approval_id)]
    with pytest.raises(Conflict, match="evidence document the approval was issued with is missing"):
        world.approvals.decide(candidate.approval_id, "approve", "ada@example.com")

    other = Binding(platform=None)
    candidate = other.register("1")
    other.platform.registry_only = True  # the version is gone from the registry
    with pytest.raises(Conflict, match="no longer in the registry"):
        other.approvals.decide(candidate.approval_id, "approve", "ada@example.com")
    assert other.approvals.get(candidate.approval_id).status == VOID


def test_both_changes_are_named(world):
    candidate = world.champion_and_candidate()
    world.platform.set_artifacts(MODEL, "2", CHANGED_FILES)
    world.tamper_evidence(candidate.approval_id, built_at="2020-01-01T00:00:00+00:00")
    with pytest.raises(Conflict) as caught:
        world.approvals.decide(candidate.approval_id, "approve", "ada@example.com")
    assert "artifact files" in caught.value.message and "evidence document changed" in caught.value.message
    assert len(world.entries("voided")[0]["changed"]) == 2


def test_an_approval_made_before_binding_is_decided_as_before(world):
    candidate = world.champion_and_candidate()

    def unbind(approval):
        approval.artifact_digest = approval.evidence_digest = ""
    world.repos.approvals.change(candidate.approval_id, unbind)
    world.platform.set_artifacts(MODEL, "2", CHANGED_FILES)
    world.tamper_evidence(candidate.approval_id, verdict={"passed": True, "line": "edited"})

    world.approvals.decide(candidate.approval_id, "approve", "ada@example.com")
    world.queue.drain()

    assert world.approvals.get(candidate.approval_id).status == "approved"
    assert world.repos.production.get().champion_version == "2" and not world.entries("voided")


def test_the_promote_step_refuses_a_staging_deployment_serving_another_version():
    world = Binding(inline_steps=False)
    candidate = world.champion_and_candidate()
    before = world.production_state()
    world.approvals.decide(candidate.approval_id, "approve", "ada@example.com")
    # between the claim and the promote step, the staging deployment is pointed at another version
    world.endpoints.endpoints[ENDPOINT]["deployments"][candidate.deployment] = (MODEL, "1")
    world.queue.drain()

    approval = world.approvals.get(candidate.approval_id)
    assert approval.status == PROMOTION_FAILED
    assert f"serves {MODEL} v1, not the approved v2" in approval.reason
    assert world.production_state() == before
    assert not any(call[0] == "traffic" and call[1].get(candidate.deployment) for call in world.endpoints.calls)
    [failed] = world.entries("promotion_failed")
    assert failed["approval_id"] == approval.id and "not the approved v2" in failed["reason"]


def test_the_promote_step_refuses_artifacts_changed_after_the_claim():
    world = Binding(inline_steps=False)
    candidate = world.champion_and_candidate()
    before = world.production_state()
    world.approvals.decide(candidate.approval_id, "approve", "ada@example.com")
    world.platform.set_artifacts(MODEL, "2", CHANGED_FILES)
    world.queue.drain()

    approval = world.approvals.get(candidate.approval_id)
    assert approval.status == PROMOTION_FAILED and "artifact files of model version v2 changed" in approval.reason
    assert world.production_state() == before
    assert world.entries("promotion_failed")[0]["reason"] == approval.reason


def test_the_promote_step_moves_traffic_when_the_deployment_serves_the_approved_artifacts():
    world = Binding(inline_steps=False)
    candidate = world.champion_and_candidate()
    world.approvals.decide(candidate.approval_id, "approve", "ada@example.com")
    world.queue.drain()
    assert world.approvals.get(candidate.approval_id).status == "approved"
    assert world.endpoints.get_endpoint(ENDPOINT).traffic == {candidate.deployment: 100}


# --------------------------------------------------------------- the Azure ML adapter's digest


class _Models:
    def __init__(self, known: set[tuple[str, str]]):
        self.known = known

    def get(self, name, version):
        from azure.core.exceptions import ResourceNotFoundError

        if (name, version) not in self.known:
            raise ResourceNotFoundError("Model version not found")
        return SimpleNamespace(name=name, version=version, tags={}, path="azureml://x", job_name=None,
                               creation_context=None)


def test_the_azure_adapter_hashes_the_model_assets_files_as_the_gate_downloads_them(monkeypatch):
    import mlflow.artifacts

    from shared.adapters.azure_ml.config import AzureMLConfig
    from shared.adapters.azure_ml.platform import AzureMLPlatform

    files = {"MLmodel": b"flavors: {}\n", "model.skops": b"\x00" * 5000, "nested/conda.yaml": b"deps\n"}
    downloads = []

    def download_artifacts(artifact_uri, dst_path, tracking_uri):
        downloads.append((artifact_uri, tracking_uri))
        root = Path(dst_path) / "model"
        for path, data in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(data)
        return str(root)

    monkeypatch.setattr(mlflow.artifacts, "download_artifacts", download_artifacts)
    platform = AzureMLPlatform(SimpleNamespace(models=_Models({(MODEL, "3")})),
                               AzureMLConfig(subscription_id="s", resource_group="r", workspace="w"))
    monkeypatch.setattr(platform, "_mlflow_ready_uri", lambda: "azureml://tracking")

    digest = platform.model_artifact_digest(MODEL, "3")

    assert digest == artifact_digest((p, hashlib.sha256(d).hexdigest()) for p, d in files.items())
    assert downloads == [(f"models:/{MODEL}/3", "azureml://tracking")]
    with pytest.raises(NotFound):
        platform.model_artifact_digest(MODEL, "4")
    assert len(downloads) == 1  # nothing downloaded for an unknown version

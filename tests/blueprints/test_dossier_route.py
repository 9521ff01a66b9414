"""GET /api/candidates/{name}/{version}/dossier in process: a zip with a safe file name, 404 for an
unknown version, 400 for a foreign or malformed name or version, no key or token inside."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from shared.domain.models import ModelRegistered
from tests.blueprints.conftest import FUNCTIONS, call, request
from tests.builders import MODEL, SIGNING_KEY

KEY = "function-key-never-in-a-dossier-0123456789"


def dossier(name: str, version: str, params: dict | None = None):
    req = request("GET", f"candidates/{name}/{version}/dossier", route_params={"name": name, "version": version},
                  params=params, headers={"x-functions-key": KEY})
    return FUNCTIONS["candidate_dossier"].get_user_function()(req)


def test_the_dossier_is_a_zip_with_its_three_files_and_a_safe_name(world):
    world.platform.register_model_version(MODEL, "1")
    candidate = world.candidates.handle_registered(ModelRegistered(MODEL, "1", "mlflow-webhook", "d-1"))
    world.approvals.decide(candidate.approval_id, "approve", "ada")

    response = dossier(MODEL, "01", {"code": KEY})

    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="diabetes-classifier-v1-dossier.zip"'
    with zipfile.ZipFile(io.BytesIO(response.get_body())) as archive:
        files = {name: archive.read(name).decode() for name in archive.namelist()}
    assert sorted(files) == ["README.txt", "dossier.json", "evidence.html"]
    doc = json.loads(files["dossier.json"])
    assert doc["version"] == "1" and doc["decisions"][0]["decided_by"] == "ada" and doc["audit"]["chain"]["ok"]
    assert doc["evidence"]["digest"].startswith("sha256:") and doc["evidence"]["document"]["approval_id"] == candidate.approval_id
    assert "evidence for review" in files["evidence.html"] and "<script" not in files["evidence.html"]
    for text in files.values():
        assert KEY not in text and SIGNING_KEY not in text and "token=" not in text and "used_links" not in text


def test_an_unknown_version_is_404(world):
    status, body = call("candidate_dossier", request("GET", "candidates/x/7/dossier",
                                                     route_params={"name": MODEL, "version": "7"}))
    assert status == 404 and "v7" in body["error"]


@pytest.mark.parametrize("name, version", [
    ("other-model", "1"), ('diabetes-classifier"; filename="evil.exe', "1"), ("../../etc/passwd", "1"),
    (MODEL, "abc"), (MODEL, "0"), (MODEL, "1\r\nSet-Cookie: x=1"), (MODEL, "9" * 12),
])
def test_a_foreign_name_or_a_malformed_version_is_400_with_no_attachment(world, name, version):
    response = dossier(name, version)

    assert response.status_code == 400 and "Content-Disposition" not in response.headers
    assert "error" in json.loads(response.get_body())

"""A dossier over its size bound is refused with 413 naming the bound (not a 500)."""
from __future__ import annotations

import json

import shared.services.dossier as dossier_service
from shared.domain.models import ModelRegistered
from tests.blueprints.test_dossier_route import dossier
from tests.builders import MODEL


def test_a_dossier_over_its_bound_is_413_with_no_attachment(world, monkeypatch):
    world.platform.register_model_version(MODEL, "1")
    world.candidates.handle_registered(ModelRegistered(MODEL, "1", "mlflow-webhook", "d-1"))
    monkeypatch.setattr(dossier_service, "MAX_ARCHIVE_BYTES", 1000)

    response = dossier(MODEL, "1")

    assert response.status_code == 413 and "Content-Disposition" not in response.headers
    assert json.loads(response.get_body()) == {"error": "the dossier of v1 is larger than 1000 bytes"}

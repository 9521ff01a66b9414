"""The evidence page shows no identifier column, even from a stored document that carries one."""
from __future__ import annotations

from tests.blueprints.test_evidence_page import FIXTURE, rendered


def test_an_old_document_with_patient_ids_renders_without_them():
    ids = [e["features"]["PatientID"] for e in FIXTURE["gate"]["disagreement"]["examples"]]
    assert ids, "the fixture is such an old document"
    page = rendered(FIXTURE)
    assert "id='disagreement'" in page and "PlasmaGlucose" in page
    assert "PatientID" not in page and not any(str(i) in page for i in ids)

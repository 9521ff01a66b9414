"""MLPlatform.predict_proba, one suite on both sides: the fake and the real MLflow models (two versions
trained by training/train.py into a temporary MLflow store)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from shared.domain.errors import PlatformError
from shared.ports import ModelVersionInfo, RowsSource
from tests.fakes import FakeDeliveryPlatform
from tests.training.conftest import SAMPLE_CSV
from training import train

MODEL = "diabetes-predictions"
LABELLED = SAMPLE_CSV.read_bytes()
CAPTURED = pd.read_csv(SAMPLE_CSV).drop(columns=["PatientID", "Diabetic"]).head(40).to_csv(index=False).encode()


class Real:
    """The adapter function both ML platforms delegate to, on a real MLflow store."""

    def __init__(self, tracking_uri):
        self.tracking_uri = tracking_uri

    def predict_proba(self, model_name, versions, rows):
        from shared.adapters.mlflow_models import predict_proba

        return predict_proba(self.tracking_uri, model_name, versions, rows)


@pytest.fixture(scope="module")
def registered(tracking_uri, tmp_path_factory):
    """Two versions: gradient boosting (v1) and logistic regression (v2)."""
    work = tmp_path_factory.mktemp("predictions")
    for algorithm in ("gradient_boosting", "logistic_regression"):
        output = work / f"{algorithm}.json"
        assert train.main(["--data", str(SAMPLE_CSV), "--model-name", MODEL, "--algorithm", algorithm,
                           "--job-name", f"job-{algorithm}", "--output-file", str(output)]) == 0
        assert json.loads(output.read_text())["model_version"] in ("1", "2")
    return tracking_uri


@pytest.fixture(params=["fake", "mlflow"])
def platform(request):
    if request.param == "mlflow":
        return Real(request.getfixturevalue("registered"))
    fake = FakeDeliveryPlatform()
    fake.registry_only = True
    for version in ("1", "2"):
        fake.model_versions[(MODEL, version)] = ModelVersionInfo(MODEL, version, "run", "src", {}, {})
    return fake


def test_every_version_scores_the_same_rows_held_out_split_first_then_each_file(platform):
    rows = platform.predict_proba(MODEL, ["2", "1"], RowsSource(
        heldout_of="2", files=(("prod/new.csv", iter([LABELLED])), ("captured live traffic", iter([CAPTURED]))),
        max_rows_per_file=25))

    (heldout, n), file_part, captured_part = rows.parts
    assert heldout == "held-out split of v2" and n > 100
    assert file_part == ("prod/new.csv", 25) and captured_part == ("captured live traffic", 25)
    assert rows.rows == n + 50 and rows.describe().startswith(f"held-out split of v2 ({n} rows) + prod/new.csv")
    assert set(rows.labels[: n + 25]) == {0, 1}, "held-out and labelled rows keep their labels"
    assert set(rows.labels[n + 25:]) == {None}, "captured traffic has none"
    for version in ("1", "2"):
        assert len(rows.probabilities[version]) == rows.rows
        assert all(0.0 <= p <= 1.0 for p in rows.probabilities[version])
    assert {"Age", "BMI", "Pregnancies"} <= set(rows.features)
    assert all(len(values) == rows.rows for values in rows.features.values())
    assert rows.features["Age"][n:n + 3] == tuple(float(a) for a in pd.read_csv(SAMPLE_CSV)["Age"][:3])


def test_the_same_rows_give_the_same_probabilities(platform):
    first = platform.predict_proba(MODEL, ["1"], RowsSource(heldout_of="1"))
    again = platform.predict_proba(MODEL, ["1"], RowsSource(heldout_of="1"))
    assert first == again and first.rows > 100


def test_files_alone_and_empty_files(platform):
    rows = platform.predict_proba(MODEL, ["1"], RowsSource(files=(("empty.csv", iter([b""])),
                                                                  ("new.csv", iter([LABELLED[:5000]])))))
    assert [name for name, _ in rows.parts] == ["new.csv"] and rows.rows == rows.parts[0][1] > 10


def test_an_unknown_version_is_a_platform_error(platform):
    with pytest.raises(PlatformError, match="v9"):
        platform.predict_proba(MODEL, ["9"], RowsSource(heldout_of="1"))


def test_real_probabilities_give_the_evaluation_figures(registered):
    """The gate's own metrics on the real probabilities equal the platform's evaluation of the same split."""
    from shared.adapters.mlflow_models import evaluate_models
    from shared.domain.evaluation import classification_metrics

    rows = Real(registered).predict_proba(MODEL, ["1", "2"], RowsSource(heldout_of="2"))
    evaluated = evaluate_models(registered, MODEL, ["1", "2"], data_from_version="2")
    for version in ("1", "2"):
        ours = classification_metrics(rows.labels, rows.probabilities[version])
        for metric in ("auc", "accuracy", "precision", "recall", "f1"):
            assert ours[metric] == pytest.approx(evaluated[version][metric], abs=1e-6), (version, metric)
        assert evaluated[version]["rows"] == rows.rows

"""Models in an MLflow registry (local server or Azure ML workspace): quality-gate evaluation, input
examples, baseline profiles, scoring of labelled data. MLflow, pandas and scikit-learn are imported
inside the functions that need them."""
from __future__ import annotations

import io
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from shared.adapters.window_reader import ChunkStream
from shared.domain.contract import DIABETES_CONTRACT
from shared.domain.errors import PlatformError
from shared.domain.model_contract import BASELINE_PROFILE_ARTIFACT, HELDOUT_ARTIFACT, INPUT_EXAMPLE_FILE

LABEL = DIABETES_CONTRACT.label


def evaluate_models(tracking_uri: str, model_name: str, versions: list[str], data_from_version: str) -> dict[str, dict]:
    import pandas as pd
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

    heldout = pd.read_csv(_heldout_csv(tracking_uri, model_name, data_from_version))
    features, labels = heldout.drop(columns=[LABEL]), heldout[LABEL]
    results = {}
    for version in versions:
        model = _sklearn_model(tracking_uri, model_name, version)
        predictions = model.predict(features)
        scores = model.predict_proba(features)[:, 1]
        results[version] = {
            "auc": float(roc_auc_score(labels, scores)),
            "accuracy": float(accuracy_score(labels, predictions)),
            "precision": float(precision_score(labels, predictions, zero_division=0)),
            "recall": float(recall_score(labels, predictions, zero_division=0)),
            "f1": float(f1_score(labels, predictions, zero_division=0)),
            "rows": int(len(heldout)),
        }
    return results


def input_example(tracking_uri: str, model_name: str, version: str) -> tuple[list[str], list[list]]:
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(f"models:/{model_name}/{version}/{INPUT_EXAMPLE_FILE}", dst_path=tmp)
        except Exception as error:  # noqa: BLE001 - MLflow raises several types for a missing artifact
            raise PlatformError(f"model {model_name} v{version} has no input example ({error.__class__.__name__})") from None
        example = json.loads(Path(path).read_text())
    return list(example["columns"]), [list(row) for row in example["data"]]


def _heldout_csv(tracking_uri: str, model_name: str, version: str) -> str:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri)
    run_id = client.get_model_version(model_name, version).run_id
    if not run_id:
        raise PlatformError(f"model {model_name} v{version} has no training run: nothing held out to evaluate on")
    target = tempfile.mkdtemp(prefix="heldout-")
    try:
        return mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=HELDOUT_ARTIFACT,
                                                   dst_path=target, tracking_uri=tracking_uri)
    except Exception as error:  # noqa: BLE001
        raise PlatformError(f"run {run_id} of {model_name} v{version} logged no {HELDOUT_ARTIFACT} "
                            f"({error.__class__.__name__})") from None


@lru_cache(maxsize=8)
def _sklearn_model(tracking_uri: str, model_name: str, version: str):
    """Registered versions are immutable: each is loaded once per process."""
    import mlflow

    # MLflow 3.17 refuses to deserialize sklearn models (skops included) unless this is set;
    # these models come from our own registry.
    os.environ.setdefault("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    mlflow.set_tracking_uri(tracking_uri)
    try:
        return mlflow.sklearn.load_model(f"models:/{model_name}/{version}")
    except Exception as error:  # noqa: BLE001
        raise PlatformError(f"could not load model {model_name} v{version} ({error.__class__.__name__}: {str(error)[:200]})") from None


def baseline_profile(tracking_uri: str, model_name: str, version: str) -> dict:
    return _cached_profile(tracking_uri, model_name, version)


@lru_cache(maxsize=8)
def _cached_profile(tracking_uri: str, model_name: str, version: str) -> dict:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri)
    run_id = client.get_model_version(model_name, version).run_id
    if not run_id:
        raise PlatformError(f"model {model_name} v{version} has no training run: no baseline profile")
    try:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=BASELINE_PROFILE_ARTIFACT,
                                                   dst_path=tempfile.mkdtemp(prefix="baseline-"), tracking_uri=tracking_uri)
    except Exception as error:  # noqa: BLE001
        raise PlatformError(f"run {run_id} logged no {BASELINE_PROFILE_ARTIFACT} ({error.__class__.__name__})") from None
    return json.loads(Path(path).read_text())


def score_data(tracking_uri: str, model_name: str, version: str, csv_chunks) -> dict:
    """Metrics of that version on a labelled CSV, read in chunks (bounded memory for the features)."""
    import numpy as np
    import pandas as pd
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

    model = _sklearn_model(tracking_uri, model_name, version)
    labels, predictions, scores = [], [], []
    stream = io.BufferedReader(ChunkStream(csv_chunks), buffer_size=1 << 20)
    for frame in pd.read_csv(stream, chunksize=200_000):
        features = frame.drop(columns=[c for c in DIABETES_CONTRACT.not_features if c in frame.columns])
        labels.append(frame[LABEL].to_numpy())
        predictions.append(model.predict(features))
        scores.append(model.predict_proba(features)[:, 1])
    y, p, s = np.concatenate(labels), np.concatenate(predictions), np.concatenate(scores)
    return {
        "auc": float(roc_auc_score(y, s)) if len(set(y)) > 1 else float("nan"),
        "accuracy": float(accuracy_score(y, p)),
        "precision": float(precision_score(y, p, zero_division=0)),
        "recall": float(recall_score(y, p, zero_division=0)),
        "f1": float(f1_score(y, p, zero_division=0)),
        "rows": int(len(y)),
    }


def predict_proba(tracking_uri: str, model_name: str, versions: list[str], rows):
    """Each version's positive-class probability on the same rows (see MLPlatform.predict_proba)."""
    import pandas as pd

    from shared.domain.evaluation import ScoredRows

    frames, parts = [], []
    if rows.heldout_of:
        frames.append(pd.read_csv(_heldout_csv(tracking_uri, model_name, rows.heldout_of)))
        parts.append((f"held-out split of v{rows.heldout_of}", len(frames[-1])))
    for name, chunks in rows.files:
        stream = io.BufferedReader(ChunkStream(chunks), buffer_size=1 << 20)
        try:
            frames.append(pd.read_csv(stream, nrows=rows.max_rows_per_file))
        except pd.errors.EmptyDataError:
            continue
        parts.append((name, len(frames[-1])))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(DIABETES_CONTRACT.names))
    features = frame.drop(columns=[c for c in DIABETES_CONTRACT.not_features if c in frame.columns])
    probabilities = {}
    for version in versions:
        model = _sklearn_model(tracking_uri, model_name, version)
        columns = list(getattr(model, "feature_names_in_", features.columns))
        missing = sorted(set(columns) - set(features.columns))
        if missing:
            raise PlatformError(f"the rows to score lack the columns {', '.join(missing)} that v{version} needs")
        probabilities[version] = tuple(float(p) for p in model.predict_proba(features[columns])[:, 1]) if len(frame) else ()
    labels = frame[LABEL] if LABEL in frame.columns else pd.Series([None] * len(frame), dtype=object)
    return ScoredRows(
        labels=tuple(None if pd.isna(v) else int(v) for v in labels),
        features={c: tuple(float(v) for v in features[c]) for c in features.columns},
        probabilities=probabilities,
        parts=tuple(parts),
    )

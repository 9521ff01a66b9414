"""What a training run logs to MLflow (plots, manifest, profile, held-out split, the model)
and the tags of the model version it registers."""
from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from sklearn.metrics import confusion_matrix, roc_curve
from sklearn.pipeline import Pipeline

if __package__:  # imported as training.run_logging (tests)
    from .dataset_schema import LABEL
    from .model_contract import (
        ALGORITHM_TAG, HELDOUT_FILE, HELDOUT_FOLDER, JOB_NAME_TAG, MAX_TRAINING_SET_TAG_CHARS, METRIC_NAMES,
        METRIC_TAG_PREFIX, MODEL_ARTIFACT, TRAINING_SET_BATCHES_TAG, TRAINING_SET_ID_TAG, TRAINING_SET_TAG,
    )
    from .model_requirements import model_requirements
else:  # run as a script from training/ (Azure ML `code: .`)
    from dataset_schema import LABEL  # type: ignore[no-redef]
    from model_contract import (  # type: ignore[no-redef]
        ALGORITHM_TAG, HELDOUT_FILE, HELDOUT_FOLDER, JOB_NAME_TAG, MAX_TRAINING_SET_TAG_CHARS, METRIC_NAMES,
        METRIC_TAG_PREFIX, MODEL_ARTIFACT, TRAINING_SET_BATCHES_TAG, TRAINING_SET_ID_TAG, TRAINING_SET_TAG,
    )
    from model_requirements import model_requirements  # type: ignore[no-redef]

# MLflow 3.15 saves sklearn models with skops, which refuses to load types not listed here.
# These are the (reviewed) non-default types our three pipelines contain.
SKOPS_TRUSTED_TYPES = ["numpy.dtype", "sklearn.tree._tree.Tree"]


def log_plots(y_test: pd.Series, predictions: np.ndarray, scores: np.ndarray, auc: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fpr, tpr, _ = roc_curve(y_test, scores)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k--", linewidth=1)
    ax.plot(fpr, tpr, label=f"AUC = {auc:.3f}")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC curve")
    ax.legend(loc="lower right")
    mlflow.log_figure(fig, "roc_curve.png")
    plt.close(fig)

    matrix = confusion_matrix(y_test, predictions, labels=[0, 1])
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black")
    ax.set(xticks=[0, 1], yticks=[0, 1], xlabel="Predicted", ylabel="Actual", title="Confusion matrix")
    mlflow.log_figure(fig, "confusion_matrix.png")
    plt.close(fig)


def log_json(payload: dict[str, Any], artifact_file: str) -> None:
    """Compact JSON artifact (mlflow.log_dict indents, which triples the profile's size)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / artifact_file
        path.write_text(json.dumps(payload, separators=(",", ":")))
        mlflow.log_artifact(str(path))


def log_heldout(X_test: pd.DataFrame, y_test: pd.Series) -> None:
    """The held-out split as `evaluation/heldout.csv`: the quality gate scores the candidate
    and the champion on these rows, which the candidate never saw."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / HELDOUT_FILE
        X_test.assign(**{LABEL: y_test.values}).to_csv(path, index=False)
        mlflow.log_artifact(str(path), artifact_path=HELDOUT_FOLDER)


def log_model(model: Pipeline, X_test: pd.DataFrame, predictions: np.ndarray) -> None:
    """The model as plain run artifacts under `model/` (MLmodel, skops file, signature, input example,
    requirements): saved to a folder and uploaded, never through `mlflow.sklearn.log_model`, whose
    logged-models API (MLflow >= 2.19) Azure ML's tracking server answers with 404."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / MODEL_ARTIFACT
        mlflow.sklearn.save_model(
            model,
            str(folder),
            signature=signature(X_test, predictions),
            input_example=X_test.head(5),
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
            pip_requirements=model_requirements(),
        )
        mlflow.log_artifacts(str(folder), artifact_path=MODEL_ARTIFACT)


def signature(X_test: pd.DataFrame, predictions: np.ndarray):
    with warnings.catch_warnings():  # the hint that integer columns cannot hold missing values
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column", category=UserWarning)
        return infer_signature(X_test, predictions)


def run_tags(manifest: dict[str, Any], job_name: str, algorithm: str) -> dict[str, str]:
    return {TRAINING_SET_ID_TAG: manifest["id"], JOB_NAME_TAG: job_name, ALGORITHM_TAG: algorithm}


def version_tags(manifest: dict[str, Any], metrics: dict[str, float], job_name: str, algorithm: str) -> dict[str, str]:
    batches = manifest["batches"]
    tags = {
        TRAINING_SET_ID_TAG: manifest["id"],
        TRAINING_SET_BATCHES_TAG: str(len(batches)),
        JOB_NAME_TAG: job_name,
        ALGORITHM_TAG: algorithm,
    }
    compact = json.dumps([{"name": b["name"], "etag": b.get("etag")} for b in batches], separators=(",", ":"))
    if len(compact) <= MAX_TRAINING_SET_TAG_CHARS:
        tags[TRAINING_SET_TAG] = compact
    tags.update({f"{METRIC_TAG_PREFIX}{name}": f"{metrics[name]:.6f}" for name in METRIC_NAMES})
    return tags


def register(model_name: str, run_id: str, tags: dict[str, str]):
    """New model version of `model_name` from this run's `model/` artifacts, tagged at creation.

    The version's source is the run's `model/` artifact folder, given as an artifact URI, and the tags
    go in the same create-model-version call (a `model_version.created` webhook already carries them).
    Not `mlflow.register_model("runs:/…")`: for a runs:/ URI MLflow 3 looks for an MLmodel file in the
    run's artifact listing and otherwise searches logged models, and Azure ML's MLflow server lists a
    run's whole folder and has no logged-models API, so that call fails in an Azure ML job.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        client.create_registered_model(model_name)
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    source = f"{client.get_run(run_id).info.artifact_uri.rstrip('/')}/{MODEL_ARTIFACT}"
    return client.create_model_version(model_name, source, run_id=run_id, tags=tags)
"""Train, evaluate, log and register the diabetes classifier.

Runs unchanged as a local process (against the MLflow server named by
MLFLOW_TRACKING_URI) and as an Azure ML command job (where Azure ML sets
MLFLOW_TRACKING_URI and MLFLOW_RUN_ID, and `mlflow.start_run()` attaches to the
job's run).

    python train.py --data data/diabetes-dev.csv --model-name diabetes-classifier

Bad input exits with code 2 and a one-line message on stderr.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version as package_version
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

if __package__:  # imported as training.train (tests)
    from .baseline_profile import build_profile
else:  # run as a script from training/ (Azure ML `code: .`)
    from baseline_profile import build_profile  # type: ignore[no-redef]

LABEL = "Diabetic"
ID_COLUMNS = ("PatientID",)
ALGORITHMS = ("gradient_boosting", "logistic_regression", "random_forest")
METRICS = ("accuracy", "auc", "precision", "recall", "f1")
MIN_ROWS = 20
MAX_TRAINING_SET_TAG_CHARS = 4000
# MLflow 3.17 saves sklearn models with skops and refuses types not listed here.
# These are the (reviewed) non-default types our three pipelines contain.
SKOPS_TRUSTED_TYPES = ["numpy.dtype", "sklearn.tree._tree.Tree"]
# The model's serving requirements, pinned to what this process runs. Listing them
# skips MLflow's inference of requirements (a subprocess that reloads the model: ~5 s).
MODEL_REQUIREMENTS = ("mlflow", "scikit-learn", "skops", "numpy", "pandas", "scipy")


class InputError(Exception):
    """Bad input: reported on one line, exit code 2."""


@dataclass
class Dataset:
    frame: pd.DataFrame
    files: list[Path]
    root: Path


# --------------------------------------------------------------------------- CLI


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train and register the diabetes classifier.")
    parser.add_argument("--data", required=True, help="a CSV file, or a folder searched recursively for *.csv")
    parser.add_argument("--model-name", required=True, help="registered model name")
    parser.add_argument("--algorithm", choices=ALGORITHMS, default="gradient_boosting")
    parser.add_argument("--reg-rate", type=float, default=0.01, help="logistic regression: C = 1 / reg_rate")
    parser.add_argument("--n-estimators", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--max-depth", type=int, default=3, help="tree depth; 0 = unlimited (random forest)")
    parser.add_argument("--test-size", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--training-set", help="JSON manifest {id, batches: [{name, etag, sha256}]}")
    parser.add_argument("--job-name", default=os.environ.get("AZUREML_RUN_ID") or "local")
    parser.add_argument("--experiment", default="diabetes-training")
    parser.add_argument("--output-file", help="write {model_name, model_version, run_id, metrics, training_set_id} here")
    parser.add_argument("--register", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    if not 0.0 < args.test_size < 1.0:
        parser.error("--test-size must be between 0 and 1")
    if args.reg_rate <= 0:
        parser.error("--reg-rate must be positive")
    if args.n_estimators < 1 or args.learning_rate <= 0 or args.max_depth < 0:
        parser.error("--n-estimators, --learning-rate must be positive and --max-depth >= 0")
    return args


# ------------------------------------------------------------------------- data


def find_csv_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if path.suffix.lower() == ".csv" else []
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".csv")
    return []


def load_data(data: str | Path) -> Dataset:
    path = Path(data)
    if not path.exists():
        raise InputError(f"no CSV found: {path} does not exist")
    files = find_csv_files(path)
    if not files:
        raise InputError(f"no CSV found in {path}")
    frames = []
    for file in files:
        try:
            frame = pd.read_csv(file)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise InputError(f"cannot read CSV {file}: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
        if frames and set(frame.columns) != set(frames[0].columns):
            raise InputError(f"CSV columns differ: {file} does not match {files[0]}")
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.drop(columns=[c for c in ID_COLUMNS if c in frame.columns])
    return Dataset(frame, files, path if path.is_dir() else path.parent)


def validate(frame: pd.DataFrame) -> None:
    if LABEL not in frame.columns:
        raise InputError(f"missing label column {LABEL!r}")
    if len(frame) < MIN_ROWS:
        raise InputError(f"fewer than {MIN_ROWS} rows: got {len(frame)}")
    labels = frame[LABEL].dropna()
    if len(labels) < len(frame):
        raise InputError(f"label column {LABEL!r} has {len(frame) - len(labels)} empty values")
    counts = labels.value_counts()
    if len(counts) < 2:
        raise InputError(f"only one class in {LABEL!r}: {counts.index[0]!r}")
    if len(counts) > 2:
        raise InputError(f"label {LABEL!r} must be binary, got classes {sorted(counts.index.tolist())}")
    if counts.min() < 2:
        raise InputError(f"too few rows of class {counts.idxmin()!r} in {LABEL!r} to split: {counts.min()}")
    features = frame.drop(columns=[LABEL])
    if features.shape[1] == 0:
        raise InputError("no feature columns")
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise InputError(f"non-numeric feature columns: {', '.join(map(str, non_numeric))}")


def split(frame: pd.DataFrame, test_size: float, seed: int):
    """Stratified train/test split; returns X_train, X_test, y_train, y_test."""
    X = frame.drop(columns=[LABEL])
    y = frame[LABEL].astype(int)
    try:
        return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    except ValueError as error:
        raise InputError(f"cannot split {len(frame)} rows with test size {test_size}: {error}")


# --------------------------------------------------------------- training set


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def training_set_id(batches: list[dict[str, Any]]) -> str:
    """sha256 over the sorted (name, sha256) pairs, each fed as name, NUL, sha256, newline.

    The same encoding as shared.domain.training.training_set_id (the service's id of
    the training sets it submits), kept standalone here: the job uploads only training/.
    """
    digest = hashlib.sha256()
    for name, sha in sorted((str(b["name"]), str(b["sha256"])) for b in batches):
        digest.update(f"{name}\0{sha}\n".encode())
    return digest.hexdigest()


def build_manifest(dataset: Dataset) -> dict[str, Any]:
    batches = [
        {"name": file.relative_to(dataset.root).as_posix(), "etag": None, "sha256": file_sha256(file)}
        for file in dataset.files
    ]
    return {"id": training_set_id(batches), "batches": batches}


def load_manifest(path: str | Path) -> dict[str, Any]:
    try:
        manifest = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read training set manifest {path}: {error}")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("id"), str) or not manifest["id"]:
        raise InputError(f"training set manifest {path} has no string 'id'")
    batches = manifest.get("batches")
    if not isinstance(batches, list) or not all(isinstance(b, dict) and "name" in b for b in batches):
        raise InputError(f"training set manifest {path} needs 'batches': a list of objects with a 'name'")
    return manifest


# ------------------------------------------------------------------------ model


def build_model(args: argparse.Namespace) -> Pipeline:
    impute = ("impute", SimpleImputer(strategy="median"))
    if args.algorithm == "logistic_regression":
        classifier = LogisticRegression(C=1.0 / args.reg_rate, max_iter=1000, random_state=args.seed)
        return Pipeline([impute, ("scale", StandardScaler()), ("classifier", classifier)])
    if args.algorithm == "random_forest":
        classifier = RandomForestClassifier(
            n_estimators=args.n_estimators,
            max_depth=args.max_depth or None,
            random_state=args.seed,
            n_jobs=-1,
        )
    else:
        classifier = GradientBoostingClassifier(
            n_estimators=args.n_estimators,
            learning_rate=args.learning_rate,
            max_depth=args.max_depth or None,
            random_state=args.seed,
        )
    return Pipeline([impute, ("classifier", classifier)])  # trees need no scaling


def model_params(args: argparse.Namespace) -> dict[str, Any]:
    if args.algorithm == "logistic_regression":
        return {"reg_rate": args.reg_rate, "C": 1.0 / args.reg_rate}
    params = {"n_estimators": args.n_estimators, "max_depth": args.max_depth}
    if args.algorithm == "gradient_boosting":
        params["learning_rate"] = args.learning_rate
    return params


def evaluate(model: Pipeline, X_test: pd.DataFrame, y_test: pd.Series) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Held-out metrics; also returns the predictions and positive-class scores."""
    predictions = model.predict(X_test)
    scores = model.predict_proba(X_test)[:, 1]
    metrics = {
        "accuracy": accuracy_score(y_test, predictions),
        "auc": roc_auc_score(y_test, scores),
        "precision": precision_score(y_test, predictions, zero_division=0),
        "recall": recall_score(y_test, predictions, zero_division=0),
        "f1": f1_score(y_test, predictions, zero_division=0),
    }
    return {k: float(v) for k, v in metrics.items()}, predictions, scores


# ---------------------------------------------------------------------- logging


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


def version_tags(manifest: dict[str, Any], metrics: dict[str, float], job_name: str, algorithm: str) -> dict[str, str]:
    batches = manifest["batches"]
    tags = {
        "training_set_id": manifest["id"],
        "training_set_batches": str(len(batches)),
        "job_name": job_name,
        "algorithm": algorithm,
    }
    compact = json.dumps([{"name": b["name"], "etag": b.get("etag")} for b in batches], separators=(",", ":"))
    if len(compact) <= MAX_TRAINING_SET_TAG_CHARS:
        tags["training_set"] = compact
    tags.update({f"metric.{name}": f"{metrics[name]:.6f}" for name in METRICS})
    return tags


def signature(X_test: pd.DataFrame, predictions: np.ndarray):
    with warnings.catch_warnings():  # the hint that integer columns cannot hold missing values
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column", category=UserWarning)
        return infer_signature(X_test, predictions)


def register(model_name: str, run_id: str, tags: dict[str, str]):
    """New model version of `model_name` from this run's logged model, tagged at creation.

    MLflow 3 resolves `runs:/<run_id>/model` to the run's logged model
    (models:/m-...) and passes the tags to create_model_version, so a
    `model_version.created` webhook already carries them.
    """
    return mlflow.register_model(f"runs:/{run_id}/model", name=model_name, tags=tags)


# ------------------------------------------------------------------------- main


def model_requirements() -> list[str]:
    pins = []
    for name in MODEL_REQUIREMENTS:
        try:
            pins.append(f"{name}=={package_version(name)}")
        except PackageNotFoundError:
            pins.append(name)
    return pins


def in_azure_ml() -> bool:
    return bool(os.environ.get("MLFLOW_RUN_ID"))


def log_heldout(X_test: pd.DataFrame, y_test: pd.Series) -> None:
    """The held-out split as `evaluation/heldout.csv`: the quality gate scores the candidate
    and the champion on these rows, which the candidate never saw."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "heldout.csv"
        X_test.assign(**{LABEL: y_test.values}).to_csv(path, index=False)
        mlflow.log_artifact(str(path), artifact_path="evaluation")


def run(args: argparse.Namespace) -> dict[str, Any]:
    dataset = load_data(args.data)
    validate(dataset.frame)
    manifest = load_manifest(args.training_set) if args.training_set else build_manifest(dataset)
    X_train, X_test, y_train, y_test = split(dataset.frame, args.test_size, args.seed)

    profile = build_profile(X_train)
    profile["label"] = {"name": LABEL, "positive_rate": float(y_train.mean())}

    # Features keep their CSV dtypes: the signature says long for the integer columns.
    # (Casting to float64 would make MLflow's schema check reject integer input:
    # "Can not safely convert int64 to float64".)
    model = build_model(args)
    model.fit(X_train, y_train)
    metrics, predictions, scores = evaluate(model, X_test, y_test)

    if not in_azure_ml():
        mlflow.set_experiment(args.experiment)
    with mlflow.start_run() as active:
        run_id = active.info.run_id
        mlflow.set_tags({"training_set_id": manifest["id"], "job_name": args.job_name, "algorithm": args.algorithm})
        mlflow.log_params(
            {
                "algorithm": args.algorithm,
                **model_params(args),
                "seed": args.seed,
                "test_size": args.test_size,
                "rows": len(dataset.frame),
                "train_rows": len(X_train),
                "test_rows": len(X_test),
                "training_set_id": manifest["id"],
                "training_set_batches": len(manifest["batches"]),
            }
        )
        mlflow.log_metrics(metrics)
        log_plots(y_test, predictions, scores, metrics["auc"])
        log_json(manifest, "training_set.json")
        log_json(profile, "baseline_profile.json")
        log_heldout(X_test, y_test)
        mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature(X_test, predictions),
            input_example=X_test.head(5),
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
            pip_requirements=model_requirements(),
        )

    version = None
    if args.register:
        tags = version_tags(manifest, metrics, args.job_name, args.algorithm)
        version = register(args.model_name, run_id, tags).version

    result = {
        "model_name": args.model_name,
        "model_version": str(version) if version is not None else None,
        "run_id": run_id,
        "metrics": metrics,
        "training_set_id": manifest["id"],
    }
    if args.output_file:
        Path(args.output_file).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output_file).write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    try:
        result = run(args)
    except InputError as error:
        print(f"train.py: error: {error}", file=sys.stderr)
        raise SystemExit(2)
    registered = f"registered {result['model_name']} version {result['model_version']}" if result["model_version"] else "not registered"
    print(
        f"run {result['run_id']}: auc={result['metrics']['auc']:.4f} accuracy={result['metrics']['accuracy']:.4f}; "
        f"{registered}; {time.perf_counter() - started:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train, evaluate, log and register the diabetes classifier.

Runs unchanged as a local process (against the MLflow server named by
MLFLOW_TRACKING_URI) and as an Azure ML command job (where Azure ML sets
MLFLOW_TRACKING_URI and MLFLOW_RUN_ID, and `mlflow.start_run()` attaches to the
job's run). It uses only the run, artifact and registry APIs that Azure ML's MLflow
server implements: the model is saved to a folder and logged as artifacts, then
registered from `runs:/<run_id>/model` (training/README.md says why).

    python train.py --data data/diabetes-dev.csv --model-name diabetes-classifier

Bad input exits with code 2 and a one-line message on stderr.

The job uploads only this folder, so its modules import each other as siblings:
`input_data` (reading and checking the CSVs), `training_set` (the manifest and its id),
`classifiers` (the pipelines and their metrics), `run_logging` (what goes to MLflow),
`baseline_profile`, and the copies of the app's names `dataset_schema` and `model_contract`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import mlflow

if __package__:  # imported as training.train (tests)
    from .baseline_profile import build_profile
    from .classifiers import ALGORITHMS, build_model, evaluate, model_params
    from .dataset_schema import LABEL
    from .input_data import InputError, load_data, split, validate
    from .model_contract import BASELINE_PROFILE_ARTIFACT, TRAINING_SET_ARTIFACT
    from .run_logging import log_heldout, log_json, log_model, log_plots, register, run_tags, version_tags
    from .training_set import build_manifest, load_manifest
else:  # run as a script from training/ (Azure ML `code: .`)
    from baseline_profile import build_profile  # type: ignore[no-redef]
    from classifiers import ALGORITHMS, build_model, evaluate, model_params  # type: ignore[no-redef]
    from dataset_schema import LABEL  # type: ignore[no-redef]
    from input_data import InputError, load_data, split, validate  # type: ignore[no-redef]
    from model_contract import BASELINE_PROFILE_ARTIFACT, TRAINING_SET_ARTIFACT  # type: ignore[no-redef]
    from run_logging import (  # type: ignore[no-redef]
        log_heldout, log_json, log_model, log_plots, register, run_tags, version_tags,
    )
    from training_set import build_manifest, load_manifest  # type: ignore[no-redef]


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


def in_azure_ml() -> bool:
    return bool(os.environ.get("MLFLOW_RUN_ID"))


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
    # Autologging would log the model a second time, through the logged-models API.
    mlflow.autolog(disable=True)
    model = build_model(args)
    model.fit(X_train, y_train)
    metrics, predictions, scores = evaluate(model, X_test, y_test)

    if not in_azure_ml():
        mlflow.set_experiment(args.experiment)
    with mlflow.start_run() as active:
        run_id = active.info.run_id
        mlflow.set_tags(run_tags(manifest, args.job_name, args.algorithm))
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
        log_json(manifest, TRAINING_SET_ARTIFACT)
        log_json(profile, BASELINE_PROFILE_ARTIFACT)
        log_heldout(X_test, y_test)
        log_model(model, X_test, predictions)

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

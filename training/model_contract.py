"""What a trained model version carries: the tags training sets at registration and the
artifacts its run logs, by name.

A literal copy of shared/domain/model_contract.py, where the app reads them: this folder is
all an Azure ML job uploads, so it cannot import the app's `shared` package.
tests/training/test_contract_copies.py fails when the two differ.
"""
from __future__ import annotations

# -- model version tags (all values are strings) ------------------------------------------
TRAINING_SET_ID_TAG = "training_set_id"  # sha256 over the training set's (name, sha256) pairs
TRAINING_SET_BATCHES_TAG = "training_set_batches"  # how many files the version was trained on
TRAINING_SET_TAG = "training_set"  # compact JSON [{name, etag}]; omitted above this length:
MAX_TRAINING_SET_TAG_CHARS = 4000
JOB_NAME_TAG = "job_name"  # the training job (on Azure ML also its MLflow run id)
ALGORITHM_TAG = "algorithm"
METRIC_TAG_PREFIX = "metric."  # + each of METRIC_NAMES: the held-out metric, "%.6f"
METRIC_NAMES = ("accuracy", "auc", "precision", "recall", "f1")

# -- artifacts of the training run -----------------------------------------------------------
TRAINING_SET_ARTIFACT = "training_set.json"  # the manifest {id, batches: [{name, etag, sha256}]}
BASELINE_PROFILE_ARTIFACT = "baseline_profile.json"  # training/baseline_profile.py's format
HELDOUT_FOLDER = "evaluation"
HELDOUT_FILE = "heldout.csv"  # the held-out split with its label, for the quality gate
HELDOUT_ARTIFACT = f"{HELDOUT_FOLDER}/{HELDOUT_FILE}"
MODEL_ARTIFACT = "model"  # the logged MLflow model
INPUT_EXAMPLE_FILE = "input_example.json"  # MLflow's name for it, inside the model's folder

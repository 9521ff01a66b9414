"""The classifier pipelines (one per --algorithm), and their held-out metrics."""
from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

ALGORITHMS = ("gradient_boosting", "logistic_regression", "random_forest")


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

"""Benchmark: the quality gate on 1,500 held-out + 5,000 new rows with 1,000 paired bootstrap resamples.

    PYTHONPATH=. .venv/bin/python bench/gate.py            # median of 5 runs (target <= 2 s)
    PYTHONPATH=. .venv/bin/python bench/gate.py --runs 3 --resamples 1000

Rows: the 30% stratified held-out split of diabetes-dev.csv (1,500 rows) plus the first 5,000 rows
of diabetes-prod.csv. Models: gradient boosting (candidate) and logistic regression (champion), fitted
here on the other 70% as training/train.py does. Timed: the models' predict_proba on those rows
(what the ML platform adapter does after loading the models) and `judge_rows` (metrics, calibration,
bootstrap interval, subgroups) + `disagreement`. Baseline in the same run: the textbook loop, one
resample at a time with scikit-learn's roc_auc_score for both models (timed once).
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from shared.domain.evaluation import ScoredRows, disagreement
from shared.domain.gate import GatePolicy, judge_rows

DATA = Path(__file__).resolve().parents[1] / "data"
LABEL = "Diabetic"


def rows_and_models():
    dev = pd.read_csv(DATA / "diabetes-dev.csv").drop(columns=["PatientID"])
    prod = pd.read_csv(DATA / "diabetes-prod.csv").drop(columns=["PatientID"]).head(5000)
    train, heldout = train_test_split(dev, test_size=0.3, random_state=42, stratify=dev[LABEL])
    features = [c for c in dev.columns if c != LABEL]
    candidate = GradientBoostingClassifier(random_state=42).fit(train[features], train[LABEL])
    champion = LogisticRegression(C=100, max_iter=1000).fit(train[features], train[LABEL])
    return pd.concat([heldout, prod], ignore_index=True), features, candidate, champion


def scored(frame, features, candidate, champion) -> ScoredRows:
    return ScoredRows(
        labels=tuple(int(v) for v in frame[LABEL]),
        features={c: tuple(float(v) for v in frame[c]) for c in features},
        probabilities={"2": tuple(float(p) for p in candidate.predict_proba(frame[features])[:, 1]),
                       "1": tuple(float(p) for p in champion.predict_proba(frame[features])[:, 1])},
        parts=(("held-out split", 1500), ("diabetes-prod.csv", 5000)),
    )


def textbook(rows: ScoredRows, resamples: int, seed: int = 0) -> float:
    y, a, b = (np.asarray(v, dtype=float) for v in (rows.labels, rows.probabilities["2"], rows.probabilities["1"]))
    rng = np.random.default_rng(seed)
    differences = []
    for _ in range(resamples):
        pick = rng.integers(0, len(y), len(y))
        differences.append(roc_auc_score(y[pick], a[pick]) - roc_auc_score(y[pick], b[pick]))
    return float(np.quantile(differences, 0.025))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    frame, features, candidate, champion = rows_and_models()
    policy = GatePolicy(resamples=args.resamples)
    times, predict_times, result = [], [], None
    for _ in range(args.runs):
        started = time.perf_counter()
        rows = scored(frame, features, candidate, champion)
        predicted = time.perf_counter()
        result = judge_rows(policy, rows, "2", "1")
        disagreement(rows, "2", "1")
        times.append(time.perf_counter() - predicted)
        predict_times.append(predicted - started)
    started = time.perf_counter()
    textbook_lower = textbook(rows, args.resamples)
    baseline = time.perf_counter() - started
    gate = statistics.median(times)
    d = result.difference
    print(f"rows: {result.rows} ({result.evaluated_on}), resamples: {d['resamples']}")
    print(f"Δ auc {d['point']:+.4f}, 95% CI [{d['lower']:+.4f}, {d['upper']:+.4f}] (textbook lower bound {textbook_lower:+.4f})")
    print(f"gate (judge_rows + disagreement): median {gate:.3f} s of {args.runs} (target <= 2 s)")
    print(f"predict_proba of both models:     median {statistics.median(predict_times):.3f} s")
    print(f"gate + predictions:               {gate + statistics.median(predict_times):.3f} s")
    print(f"textbook bootstrap (sklearn, one resample at a time): {baseline:.3f} s, {baseline / gate:.1f}x the gate")


if __name__ == "__main__":
    main()

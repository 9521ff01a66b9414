"""Evidently's DataDriftPreset on windows handed over as files: the worker bench/drift_quality.py runs in
.venv-bench (bench/requirements-evidently.txt), never in the app's environment.

    .venv-bench/bin/python bench/evidently_drift.py REFERENCE.npz

REFERENCE.npz holds the reference rows, one array per column (all numerical). Each line read from
standard input is the path of a window's .npz (same columns); the worker answers one JSON line per
window: {"drifted": columns Evidently calls drifted, "share": their share, "dataset_drift": share >=
the preset's drift_share (0.5, its default)}. The preset runs with its defaults (the drift method
per column chosen by Evidently from the data), its tests left out (they do not change the drift
figures). Telemetry is off (DO_NOT_TRACK).
"""
from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DO_NOT_TRACK", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from evidently import DataDefinition, Dataset, Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402


def frame(path: str) -> pd.DataFrame:
    with np.load(path) as arrays:
        return pd.DataFrame({name: arrays[name] for name in arrays.files})


def main() -> None:
    reference = frame(sys.argv[1])
    definition = DataDefinition(numerical_columns=list(reference.columns))
    reference_data = Dataset.from_pandas(reference, data_definition=definition)
    preset = DataDriftPreset(include_tests=False)
    for line in sys.stdin:
        current = Dataset.from_pandas(frame(line.strip()), data_definition=definition)
        metrics = Report([preset]).run(current, reference_data).dict()["metrics"]
        counted = next(m["value"] for m in metrics if m["metric_name"].startswith("DriftedColumnsCount"))
        answer = {"drifted": int(counted["count"]), "share": float(counted["share"]),
                  "dataset_drift": float(counted["share"]) >= preset.drift_share}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()

"""Benchmark: drift check of 1M rows x 8 features against a stored baseline, vs Evidently.

    .venv/bin/python bench/drift_speed.py                  # ours (median of 5) + Evidently (1 run)
    .venv/bin/python bench/drift_speed.py --no-evidently   # ours only
    .venv/bin/python bench/drift_speed.py --rows 1000000 --runs 5 --evidently-runs 1

Baseline: `training/baseline_profile.build_profile` on diabetes-dev.csv's features, written
to JSON and read back (as the service reads the MLflow artifact). Window: 1M rows
resampled (numpy, fixed seed) from diabetes-prod.csv. Timed: `WindowAccumulator.add` in
100k-row chunks + `check_drift` (target <= 0.25 s).

Side by side: Evidently's DataDriftPreset on the same reference and current data, run in
its own virtual environment (bench/.venv-evidently, created and filled here with
`pip install "evidently==0.7.*" "pandas<3"`: Evidently 0.7 does not import with pandas 3;
it is not a dependency of the service) as a subprocess that times only `report.run`.
Prints both times and the ratio (target >= 100x).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.domain.drift import DriftPolicy, WindowAccumulator, baseline_from_profile, check_drift  # noqa: E402
from training.baseline_profile import build_profile  # noqa: E402

RESULTS = ROOT / "bench" / "results"
EVIDENTLY_VENV = ROOT / "bench" / ".venv-evidently"
FEATURES = ["Pregnancies", "PlasmaGlucose", "DiastolicBloodPressure", "TricepsThickness",
            "SerumInsulin", "BMI", "DiabetesPedigree", "Age"]

EVIDENTLY_SCRIPT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2])
times = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    data = snapshot.dict()
    times.append(time.perf_counter() - start)
drifted = [m for m in data.get("metrics", []) if "DriftedColumnsCount" in str(m.get("metric_name", ""))]
print(json.dumps({"times": times, "drifted_columns": drifted[0]["value"] if drifted else None}))
"""


def load(name: str) -> pd.DataFrame:
    for folder in (ROOT / "data", Path("/work/shared/data")):
        if (folder / name).exists():
            return pd.read_csv(folder / name)[FEATURES]
    raise SystemExit(f"{name} not found in data/")


def ours(profile_path: Path, current: dict[str, np.ndarray], chunk_rows: int, runs: int) -> tuple[list[float], object]:
    baseline = baseline_from_profile(json.loads(profile_path.read_text()))
    rows = len(next(iter(current.values())))
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        window = WindowAccumulator(baseline)
        for offset in range(0, rows, chunk_rows):
            window.add({name: values[offset:offset + chunk_rows] for name, values in current.items()})
        result = check_drift(baseline, window, DriftPolicy())
        times.append(time.perf_counter() - start)
    return times, result


def ensure_evidently() -> Path | None:
    python = EVIDENTLY_VENV / "bin" / "python"
    check = [str(python), "-c", "import evidently, pandas; print(evidently.__version__, pandas.__version__)"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"installing Evidently into {EVIDENTLY_VENV.relative_to(ROOT)} ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(EVIDENTLY_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "evidently==0.7.*", "pandas<3", "pyarrow"], check=True)
    except (subprocess.CalledProcessError, OSError) as error:
        print(f"Evidently could not be installed: {error}")
        return None
    done = subprocess.run(check, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"Evidently does not import: {done.stderr.strip()[-500:]}")
        return None
    return python


def evidently(python: Path, reference: pd.DataFrame, current: dict[str, np.ndarray], runs: int) -> dict | None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    reference_path, current_path = RESULTS / "drift-reference.parquet", RESULTS / "drift-current.parquet"
    reference.to_parquet(reference_path, index=False)
    pd.DataFrame(current).to_parquet(current_path, index=False)
    done = subprocess.run([str(python), "-c", EVIDENTLY_SCRIPT, str(reference_path), str(current_path), str(runs)],
                          capture_output=True, text=True, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    if done.returncode != 0:
        print(f"Evidently failed: {done.stderr.strip()[-1500:]}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--evidently-runs", type=int, default=1)
    parser.add_argument("--no-evidently", action="store_true")
    args = parser.parse_args()

    dev, prod = load("diabetes-dev.csv"), load("diabetes-prod.csv")
    RESULTS.mkdir(parents=True, exist_ok=True)
    profile_path = RESULTS / "baseline_profile.json"
    profile_path.write_text(json.dumps(build_profile(dev), separators=(",", ":")))
    rows = np.random.default_rng(0).integers(0, len(prod), args.rows)
    current = {name: prod[name].to_numpy()[rows] for name in FEATURES}

    times, result = ours(profile_path, current, args.chunk_rows, args.runs)
    median = statistics.median(times)
    print(f"drift check: {args.rows:,} rows x {len(FEATURES)} features in {args.chunk_rows:,}-row chunks "
          f"(stored baseline {profile_path.stat().st_size / 1024:.1f} KB): median {median:.3f} s of {args.runs} "
          f"({', '.join(f'{t:.3f}' for t in times)}); verdict {result.verdict}, "
          f"max PSI {max(f['psi'] for f in result.features.values()):.4f}; target <= 0.25 s "
          f"{'OK' if median <= 0.25 else 'MISSED'}")
    if args.no_evidently:
        return
    python = ensure_evidently()
    if python is None:
        print("Evidently: not measured (could not be installed); ours only")
        return
    measured = evidently(python, dev, current, args.evidently_runs)
    if measured is None:
        return
    theirs = statistics.median(measured["times"])
    ratio = theirs / median
    print(f"Evidently 0.7 DataDriftPreset, same data: {theirs:.2f} s (runs: "
          f"{', '.join(f'{t:.2f}' for t in measured['times'])}; drifted columns: {measured['drifted_columns']})")
    print(f"ratio: ours is {ratio:,.0f}x faster; target >= 100x {'OK' if ratio >= 100 else 'MISSED'}")


if __name__ == "__main__":
    main()

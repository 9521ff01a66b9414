"""Benchmark: a drift check from stored profiles (10M rows held in 100 files), and what profiling
adds to the validation pass of a large file.

    .venv/bin/python bench/drift_profiles.py                      # both parts (1 GB file, made once)
    .venv/bin/python bench/drift_profiles.py --part check --runs 7
    .venv/bin/python bench/drift_profiles.py --part overhead --size-mb 1024 --runs 1

check: 100 files of 100,000 rows resampled (fixed seed) from diabetes-prod.csv, each profiled
on the contract's grid and stored as the service stores it (JSON). Timed, median of --runs:
decoding the 100 stored profiles, merging them into the three windows (newest file, recent
5,000+ rows, everything) and checking all three against the baseline of diabetes-dev.csv, as
DriftMonitoring does (the JSON parse of the documents is reported apart: it is the store's
download). The verdicts are compared with the streaming check of the same 10M rows
(WindowAccumulator on the baseline's grid).

overhead: validate_csv on the same file with and without the FileProfiler observer, alternated,
median of --runs each; prints the ratio (target <= 1.20).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from shared.adapters.local_files import read_file_chunks  # noqa: E402
from shared.domain.contract import DIABETES_CONTRACT, validate_csv  # noqa: E402
from shared.domain.drift import WindowAccumulator, baseline_from_profile, check_drift  # noqa: E402
from shared.domain.drift.file_profiler import FileProfiler  # noqa: E402
from shared.domain.drift.window_profile import (  # noqa: E402
    merge_profiles, new_profile, profile_from_dict, profile_grids, profile_to_dict, project,
)
from training.baseline_profile import build_profile  # noqa: E402
from validate_large import make_file  # noqa: E402

FEATURES = ["Pregnancies", "PlasmaGlucose", "DiastolicBloodPressure", "TricepsThickness",
            "SerumInsulin", "BMI", "DiabetesPedigree", "Age"]


def check_part(files: int, rows: int, runs: int) -> None:
    dev = pd.read_csv(ROOT / "data" / "diabetes-dev.csv")[FEATURES]
    prod = pd.read_csv(ROOT / "data" / "diabetes-prod.csv")[FEATURES]
    baseline = baseline_from_profile(json.loads(json.dumps(build_profile(dev))))
    grids = profile_grids(DIABETES_CONTRACT.columns)
    rng = np.random.default_rng(7)
    arrays = {n: prod[n].to_numpy() for n in FEATURES}
    stored, streaming = [], WindowAccumulator(baseline, reservoir_size=0)
    for i in range(files):
        pick = rng.integers(0, len(prod), rows)
        columns = {n: v[pick] for n, v in arrays.items()}
        profile = new_profile(grids, seed=i)
        profile.add(columns)
        stored.append(json.dumps({"profile": profile_to_dict(profile)}))
        streaming.add(columns)
    t0 = time.perf_counter()
    documents = [json.loads(text) for text in stored]
    parse = time.perf_counter() - t0

    def run():
        profiles = [profile_from_dict(doc["profile"]) for doc in documents]
        recent, total = [], 0
        for profile in reversed(profiles):
            if total >= 5000:
                break
            recent.append(profile)
            total += profile.rows
        windows = {"newest_file": profiles[-1:], "recent": recent, "since_champion": profiles}
        return {name: check_drift(baseline, project(merge_profiles(p, grids), baseline))
                for name, p in windows.items()}

    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        results = run()
        times.append(time.perf_counter() - t0)
    decoded = [profile_from_dict(doc["profile"]) for doc in documents]
    held = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for window in (decoded[-1:], decoded[-1:], decoded):
            check_drift(baseline, project(merge_profiles(window, grids), baseline))
        held.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    reference = check_drift(baseline, streaming)
    stream_check = time.perf_counter() - t0
    size = sum(map(len, stored)) / files
    ours = results["since_champion"]
    print(f"{files} files x {rows:,} rows = {files * rows:,} rows; stored profile {size / 1024:.0f} KiB each; "
          f"JSON parse of all {parse * 1000:.1f} ms")
    print(f"drift check from stored profiles, 3 windows, decoding included: median "
          f"{statistics.median(times) * 1000:.1f} ms over {runs} runs (min {min(times) * 1000:.1f})")
    print(f"merge + check of the 3 windows from decoded profiles: median {statistics.median(held) * 1000:.1f} ms "
          f"(min {min(held) * 1000:.1f}); target <= 10 ms")
    print(f"same data streamed (already counted, check only {stream_check * 1000:.1f} ms): verdict "
          f"{reference.verdict} vs {ours.verdict} from profiles; drifted {list(reference.drifted_features)} vs "
          f"{list(ours.drifted_features)}; max |KS difference| "
          f"{max(abs(reference.features[n]['ks'] - ours.features[n]['ks']) for n in FEATURES):.5f}")


def overhead_part(size_mb: int, runs: int) -> None:
    path = make_file(size_mb)
    size = path.stat().st_size
    plain, profiled = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        report = validate_csv(read_file_chunks(path), declared_size=size)
        plain.append(time.perf_counter() - t0)
        profiler = FileProfiler(DIABETES_CONTRACT)
        t0 = time.perf_counter()
        profiled_report = validate_csv(read_file_chunks(path), declared_size=size, observer=profiler)
        profiled.append(time.perf_counter() - t0)
        assert profiled_report.accepted == report.accepted and profiler.profile.rows == report.rows
    a, b = statistics.median(plain), statistics.median(profiled)
    print(f"validation of {size / 1e6:,.0f} MB ({report.rows:,} rows): {a:.2f} s without profiling, {b:.2f} s "
          f"with (median of {runs}); ratio {b / a:.3f} (target <= 1.20)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("check", "overhead", "both"), default="both")
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--overhead-runs", type=int, default=1)
    args = ap.parse_args()
    if args.part in ("check", "both"):
        check_part(args.files, args.rows, args.runs)
    if args.part in ("overhead", "both"):
        overhead_part(args.size_mb, args.overhead_runs)


if __name__ == "__main__":
    main()

"""Benchmark: a drift check from stored profiles (10M rows held in 100 files), and what profiling
adds to the validation pass of a large file.

    .venv/bin/python bench/drift_profiles.py                      # both parts (1 GB file, made once)
    .venv/bin/python bench/drift_profiles.py --part check --runs 15
    .venv/bin/python bench/drift_profiles.py --part overhead --size-mb 1024 --overhead-runs 3

check: 100 files of 100,000 rows resampled (fixed seed) from diabetes-prod.csv, each profiled on
the contract's grid and stored as ingestion stores it, in a document store that keeps JSON text
(each read parses it, as a Blob Storage download would; that parse is timed apart, it is the
store's side). The three windows (newest file, recent 5,000+ rows, everything since the
champion) are made by the service's WindowProfiles and checked by check_windows against the
baseline of diabetes-dev.csv, as DriftMonitoring does. Timed, median of --runs:

  * steady state: the stored since-champion profile covers 99 files and the 100th arrived (each
    run starts from that state, with the critical values of the window sizes forgotten: a new
    file makes new sizes), so a check reads the merged profile and the new file's, and stores
    the merged profile again;
  * nothing new: the same check again (everything stored, the window sizes seen before);
  * cold: no stored merged profile (the first check of a champion): all 100 profiles decoded.

The verdicts are compared with the streaming check of the same 10M rows (WindowAccumulator on the
baseline's grid).

overhead: validate_csv on the same file with and without the FileProfiler observer, alternated,
median of --overhead-runs each; prints the ratio of wall times and of CPU times (target <= 1.20).
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from shared.adapters.local_files import read_file_chunks  # noqa: E402
from shared.domain.batches import BatchRef  # noqa: E402
from shared.domain.contract import DIABETES_CONTRACT, validate_csv  # noqa: E402
from shared.domain.drift import DriftPolicy, WindowAccumulator, baseline_from_profile, check_drift  # noqa: E402
from shared.domain.drift import significance  # noqa: E402
from shared.domain.drift.file_profiler import FileProfiler  # noqa: E402
from shared.domain.drift.window_profile import new_profile, profile_grids, profile_to_dict  # noqa: E402
from shared.services.monitoring.drift import check_windows  # noqa: E402
from shared.services.monitoring.windows import SINCE_CHAMPION, WindowProfiles, WindowRule  # noqa: E402
from shared.services.repositories import Repositories  # noqa: E402
from tests.fakes import FakeDocumentStore  # noqa: E402
from training.baseline_profile import build_profile  # noqa: E402
from validate_large import make_file  # noqa: E402

FEATURES = ["Pregnancies", "PlasmaGlucose", "DiastolicBloodPressure", "TricepsThickness",
            "SerumInsulin", "BMI", "DiabetesPedigree", "Age"]
START = datetime(2026, 11, 1, tzinfo=timezone.utc)


class JsonStore(FakeDocumentStore):
    """The fake document store keeping JSON text, as Blob Storage does; time spent on JSON is counted."""

    def __init__(self):
        super().__init__()
        self.json_seconds = 0.0

    def get(self, key):
        found = super().get(key)
        if found is None:
            return None
        t0 = time.perf_counter()
        doc = json.loads(found.doc["json"])
        self.json_seconds += time.perf_counter() - t0
        return type(found)(found.key, doc, found.etag)

    def _put(self, key, doc):
        t0 = time.perf_counter()
        text = json.dumps(doc, allow_nan=False)
        self.json_seconds += time.perf_counter() - t0
        return super()._put(key, {"json": text})


def check_part(files: int, rows: int, runs: int) -> None:
    dev = pd.read_csv(ROOT / "data" / "diabetes-dev.csv")[FEATURES]
    prod = pd.read_csv(ROOT / "data" / "diabetes-prod.csv")[FEATURES]
    baseline = baseline_from_profile(json.loads(json.dumps(build_profile(dev))))
    grids = profile_grids(DIABETES_CONTRACT.columns)
    store = JsonStore()
    repos = Repositories.on(store, "diabetes-classifier", lambda: START)
    rng = np.random.default_rng(7)
    arrays = {n: prod[n].to_numpy() for n in FEATURES}
    batches, streaming = [], WindowAccumulator(baseline, reservoir_size=0)
    for i in range(files):
        pick = rng.integers(0, len(prod), rows)
        columns = {n: v[pick] for n, v in arrays.items()}
        profile = new_profile(grids, seed=i)
        profile.add(columns)
        batch = BatchRef("data", f"prod/file-{i:03}.csv", f'"0x{i:04X}"', f"{i:064x}")
        repos.profiles.add(batch.name, batch.etag, (START + timedelta(hours=i)).isoformat(), profile_to_dict(profile))
        batches.append(batch)
        streaming.add(columns)
    service = WindowProfiles(repos, None, None, None, DIABETES_CONTRACT, WindowRule(recent_rows=5000))
    policy = DriftPolicy()
    now = START + timedelta(days=30)

    def check(window_batches):
        return check_windows(baseline, service.windows("1", window_batches, [], now), policy)

    def timed(prepare):
        total, on_json = [], []
        for _ in range(runs):
            prepare()
            store.json_seconds = 0.0
            t0 = time.perf_counter()
            results = check(batches)
            total.append(time.perf_counter() - t0)
            on_json.append(store.json_seconds)
        compute = [t - j for t, j in zip(total, on_json)]
        return results, statistics.median(compute), min(compute), statistics.median(on_json)

    check(batches[:-1])  # the previous check: the stored merged profile covers 99 files
    before = copy.deepcopy(store.docs)

    def one_new_file():
        store.docs = copy.deepcopy(before)
        significance._histogram_critical.cache_clear()

    steady, steady_ms, steady_min, steady_json = timed(one_new_file)
    _, again_ms, again_min, again_json = timed(lambda: None)

    def nothing_stored():
        store.docs.pop(repos.merged_profiles.KEY, None)
        significance._histogram_critical.cache_clear()

    cold, cold_ms, cold_min, cold_json = timed(nothing_stored)
    reference = check_drift(baseline, streaming, policy)
    ours = steady[SINCE_CHAMPION]
    size = len(store.docs[f"monitoring/profiles/{batches[0].id}"][0]["json"]) / 1024
    print(f"{files} files x {rows:,} rows = {files * rows:,} rows; stored profile {size:.0f} KiB each; "
          f"median of {runs} runs, compute (JSON parse/serialise of the store apart)")
    print(f"drift check, 3 windows, one new file since the last check: {steady_ms * 1000:.1f} ms "
          f"(min {steady_min * 1000:.1f}; JSON {steady_json * 1000:.1f} ms); target <= 10 ms")
    print(f"drift check, 3 windows, nothing new: {again_ms * 1000:.1f} ms (min {again_min * 1000:.1f}; "
          f"JSON {again_json * 1000:.1f} ms)")
    print(f"drift check, 3 windows, no stored merged profile (100 profiles decoded): {cold_ms * 1000:.1f} ms "
          f"(min {cold_min * 1000:.1f}; JSON {cold_json * 1000:.1f} ms)")
    same = all(steady[n].to_dict() == cold[n].to_dict() for n in steady)
    print(f"steady-state results equal the cold ones: {same}")
    print(f"same data streamed: verdict {reference.verdict} vs {ours.verdict} from profiles; drifted "
          f"{list(reference.drifted_features)} vs {list(ours.drifted_features)}; max |KS difference| "
          f"{max(abs(reference.features[n]['ks'] - ours.features[n]['ks']) for n in FEATURES):.5f}")


def overhead_part(size_mb: int, runs: int) -> None:
    path = make_file(size_mb)
    size = path.stat().st_size
    wall = {"plain": [], "profiled": []}
    cpu = {"plain": [], "profiled": []}
    for _ in range(runs):
        for kind in ("plain", "profiled"):
            profiler = FileProfiler(DIABETES_CONTRACT) if kind == "profiled" else None
            t0, c0 = time.perf_counter(), time.process_time()
            report = validate_csv(read_file_chunks(path), declared_size=size, observer=profiler)
            wall[kind].append(time.perf_counter() - t0)
            cpu[kind].append(time.process_time() - c0)
            assert report.accepted and (profiler is None or profiler.profile.rows == report.rows)
    a, b = statistics.median(wall["plain"]), statistics.median(wall["profiled"])
    ca, cb = statistics.median(cpu["plain"]), statistics.median(cpu["profiled"])
    print(f"validation of {size / 1e6:,.0f} MB ({report.rows:,} rows), median of {runs}: {a:.2f} s without "
          f"profiling, {b:.2f} s with: ratio {b / a:.3f}; CPU time (this process only, less sensitive to a busy "
          f"machine) {ca:.2f} s vs {cb:.2f} s: ratio {cb / ca:.3f} (target <= 1.20)")


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

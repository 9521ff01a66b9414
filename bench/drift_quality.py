"""Benchmark: the drift quality table on the project data, every size and every listed shift, and the
same windows judged by Evidently's DataDriftPreset side by side.

    .venv/bin/python bench/drift_quality.py                   # 300 unshifted, 100 shifted windows per cell
    .venv/bin/python bench/drift_quality.py --windows 1000 --shifted-windows 200 --evidently-windows 0

The same windows as tests/quality/test_drift_table.py (profiled on the contract's grid and
projected onto the baseline of diabetes-dev.csv, as the service does; floor set to 1 row so
that 200-row windows are judged; 50,000-row windows resampled with replacement). Prints the
false-alarm rate with one binomial standard error and the detection rate per shift and size.

Evidently: the first --evidently-windows unshifted and --evidently-shifted-windows shifted windows
of every cell (the same windows, from the same seeded streams) are written as .npz files one at a
time and judged by bench/evidently_drift.py in the benchmark's own environment (.venv-bench:
`python3 -m venv .venv-bench && .venv-bench/bin/pip install -r bench/requirements-evidently.txt`),
against the rows of diabetes-dev.csv. Its verdict is the preset's dataset drift (at least half of
the columns drifted, its default drift_share) and, apart, "any column drifted" (the rule of our
detector). Our detector's rate on exactly those windows is printed beside them. Evidently takes
about a second per window, so it gets fewer windows than our table.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.domain.drift import DriftPolicy  # noqa: E402
from tests.quality.drift_table import FEATURES, SIZES, Table  # noqa: E402

BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"


def our_table(table: Table, windows: int, shifted_windows: int) -> None:
    print(f"stated false-alarm rate {DriftPolicy().false_alarm_rate:.0%} per check")
    print("| window | " + " | ".join(f"{s:,} rows" for s in SIZES) + " |")
    print("|---|" + "---|" * len(SIZES))
    cells = []
    for size in SIZES:
        rate = table.false_alarm_rate(size, windows)
        error = max(rate * (1 - rate), 0.01 * 0.99) ** 0.5 / windows ** 0.5
        cells.append(f"{rate:.1%} ± {error:.1%}")
    print(f"| false alarms ({windows} unshifted windows) | " + " | ".join(cells) + " |")
    for shift in Table.shift_names():
        rates = [table.detection_rate(shift, size, shifted_windows) for size in SIZES]
        print(f"| detected: {shift} ({shifted_windows} windows) | " + " | ".join(f"{r:.0%}" for r in rates) + " |")


class Evidently:
    """bench/evidently_drift.py in .venv-bench, fed one window file at a time."""

    def __init__(self, table: Table, folder: Path):
        self.folder = folder
        reference = folder / "reference.npz"
        np.savez(reference, **{n: table.dev[n].to_numpy(dtype=np.float64) for n in FEATURES})
        self.worker = subprocess.Popen(
            [str(BENCH_PYTHON), str(ROOT / "bench" / "evidently_drift.py"), str(reference)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "DO_NOT_TRACK": "1"})

    def judge(self, chunks: list[dict]) -> dict:
        path = self.folder / "window.npz"
        np.savez(path, **{n: np.concatenate([np.asarray(c[n], dtype=np.float64) for c in chunks]) for n in FEATURES})
        self.worker.stdin.write(f"{path}\n")
        self.worker.stdin.flush()
        line = self.worker.stdout.readline()
        if not line:
            raise SystemExit(f"the Evidently worker stopped (exit code {self.worker.poll()})")
        return json.loads(line)

    def close(self) -> None:
        self.worker.stdin.close()
        self.worker.wait(timeout=60)


def side_by_side(table: Table, unshifted: int, shifted: int) -> None:
    if not BENCH_PYTHON.exists():
        print(f"Evidently: {BENCH_PYTHON.relative_to(ROOT)} is missing; make it with: python3 -m venv .venv-bench "
              "&& .venv-bench/bin/pip install -r bench/requirements-evidently.txt")
        return
    print("\nSame windows, side by side: ours / Evidently DataDriftPreset, dataset drift (>= 50% of columns) / "
          "Evidently, any column drifted")
    print("| window | " + " | ".join(f"{s:,} rows" for s in SIZES) + " |")
    print("|---|" + "---|" * len(SIZES))
    with tempfile.TemporaryDirectory(prefix="drift-quality-") as folder:
        evidently = Evidently(table, Path(folder))
        try:
            for shift in (None, *Table.shift_names()):
                count = unshifted if shift is None else shifted
                cells = []
                for size in SIZES:
                    ours = dataset = anywhere = 0
                    for chunks in table.windows(shift, size, count):
                        theirs = evidently.judge(chunks)
                        ours += table.verdict(*chunks) == "drift"
                        dataset += theirs["dataset_drift"]
                        anywhere += theirs["drifted"] > 0
                    cells.append(f"{ours / count:.0%} / {dataset / count:.0%} / {anywhere / count:.0%}")
                label = (f"false alarms ({count} unshifted windows)" if shift is None
                         else f"detected: {shift} ({count} windows)")
                print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
        finally:
            evidently.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--windows", type=int, default=300)
    ap.add_argument("--shifted-windows", type=int, default=100)
    ap.add_argument("--evidently-windows", type=int, default=100, help="unshifted windows per size (0: no Evidently)")
    ap.add_argument("--evidently-shifted-windows", type=int, default=20)
    args = ap.parse_args()
    table = Table(DriftPolicy(min_window_rows=1))
    started = time.perf_counter()
    our_table(table, args.windows, args.shifted_windows)
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.evidently_windows > 0:
        started = time.perf_counter()
        side_by_side(table, args.evidently_windows, args.evidently_shifted_windows)
        print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

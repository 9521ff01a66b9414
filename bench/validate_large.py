"""Benchmark: stream a large CSV through validate_csv in 4 MB chunks.

    .venv/bin/python bench/validate_large.py                 # ~1 GB file, 1 run
    .venv/bin/python bench/validate_large.py --size-mb 100 --runs 3

The file is made by repeating the data rows of diabetes-prod.csv and is kept in
bench/results/ (git-ignored) for the next run. Prints rows, seconds, MB/s per run, the
median, and the peak RSS of this whole process (resource.getrusage ru_maxrss).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.adapters.local_files import read_file_chunks  # noqa: E402
from shared.domain.contract import CHUNK_SIZE, validate_csv  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def source_csv() -> Path:
    for folder in (ROOT / "data", Path("/work/shared/data")):
        if (folder / "diabetes-prod.csv").exists():
            return folder / "diabetes-prod.csv"
    raise SystemExit("diabetes-prod.csv not found in data/ or /work/shared/data/")


def make_file(size_mb: int) -> Path:
    path = RESULTS / f"diabetes-{size_mb}mb.csv"
    target = size_mb * 1024 * 1024
    if path.exists() and path.stat().st_size >= target:
        return path
    RESULTS.mkdir(parents=True, exist_ok=True)
    header, _, body = source_csv().read_bytes().partition(b"\n")
    if not body.endswith(b"\n"):
        body += b"\n"
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(header + b"\n")
        written = len(header) + 1
        while written < target:
            f.write(body)
            written += len(body)
    os.replace(tmp, path)
    return path


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024, help="approximate file size in MiB (default 1024)")
    ap.add_argument("--runs", type=int, default=1, help="number of runs (median is reported)")
    ap.add_argument("--chunk-mb", type=float, default=CHUNK_SIZE / 1024 / 1024)
    args = ap.parse_args()

    path = make_file(args.size_mb)
    size = path.stat().st_size
    chunk = int(args.chunk_mb * 1024 * 1024)
    print(f"file {path} ({size / 1e6:,.1f} MB), chunks of {chunk / 1024 / 1024:g} MiB; "
          f"peak RSS before validating: {peak_rss_mb():.1f} MiB")
    rates = []
    for i in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        report = validate_csv(read_file_chunks(path, chunk), declared_size=size)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        rates.append(size / 1e6 / dt)
        print(f"run {i + 1}: {report.summary()} | rows {report.rows:,} | {dt:.2f} s | "
              f"{size / 1e6 / dt:.1f} MB/s (cpu {cpu:.2f} s) | peak RSS {peak_rss_mb():.1f} MiB")
    print(f"median: {statistics.median(rates):.1f} MB/s over {args.runs} run(s); "
          f"peak RSS of the process: {peak_rss_mb():.1f} MiB")


if __name__ == "__main__":
    main()

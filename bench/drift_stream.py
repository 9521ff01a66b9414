"""Benchmark: a 10M-row window streamed from a real Azurite (CSV and Parquet), checked for drift.

    .venv/bin/python bench/drift_stream.py                   # 10M rows, CSV + Parquet
    .venv/bin/python bench/drift_stream.py --rows 2000000    # smaller

Starts Azurite (devstack.processes.start_azurite) on free ports in a temporary folder,
generates the files streaming (never in memory: rows of diabetes-prod.csv resampled in
blocks, a CSV of about 10M rows and a Parquet file written with pyarrow in row groups),
uploads them, then reads each in a separate child process, so that each figure is that
reader's own peak RSS (resource.getrusage ru_maxrss):

* csv: `download_blob().chunks()` → `shared.adapters.window_reader.iter_csv_columns`
  (pandas read_csv, 100k-row chunks) → `WindowAccumulator.add` → `check_drift`;
* parquet: `download_blob().chunks()` spooled to a temporary file on disk (Parquet needs
  random access) → `iter_parquet_columns` (pyarrow iter_batches) → accumulate → check;
* parquet-range: the same through `RangeReader` over ranged `download_blob(offset, length)`
  calls, no local copy.

Prints rows, seconds, rows/s, MB/s and the peak RSS per reader (target <= 500 MB), then
stops Azurite and removes the folder.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FEATURES = ["Pregnancies", "PlasmaGlucose", "DiastolicBloodPressure", "TricepsThickness",
            "SerumInsulin", "BMI", "DiabetesPedigree", "Age"]
CONTAINER = "drift-bench"
BLOCK_ROWS = 500_000


def data_file(name: str) -> Path:
    for folder in (ROOT / "data", Path("/work/shared/data")):
        if (folder / name).exists():
            return folder / name
    raise SystemExit(f"{name} not found in data/")


def generate_csv(path: Path, rows: int) -> int:
    """Write `rows` data rows resampled from diabetes-prod.csv, block by block."""
    import numpy as np

    header, _, body = data_file("diabetes-prod.csv").read_bytes().partition(b"\n")
    lines = body.rstrip(b"\n").split(b"\n")
    rng = np.random.default_rng(0)
    written = 0
    with open(path, "wb") as f:
        f.write(header.rstrip(b"\r") + b"\n")
        while written < rows:
            n = min(BLOCK_ROWS, rows - written)
            picks = rng.integers(0, len(lines), n)
            f.write(b"\n".join(lines[i].rstrip(b"\r") for i in picks) + b"\n")
            written += n
    return written


def generate_parquet(path: Path, rows: int) -> int:
    """Write `rows` rows resampled from diabetes-prod.csv with pyarrow, one row group per block."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    prod = pd.read_csv(data_file("diabetes-prod.csv"))
    table = pa.Table.from_pandas(prod, preserve_index=False)
    rng = np.random.default_rng(1)
    written = 0
    with pq.ParquetWriter(path, table.schema) as writer:
        while written < rows:
            n = min(BLOCK_ROWS, rows - written)
            writer.write_table(table.take(pa.array(rng.integers(0, table.num_rows, n))), row_group_size=n)
            written += n
    return written


def read_and_check(connection: str, blob_name: str, mode: str, chunk_rows: int) -> dict:
    """Child process: stream one blob through the window reader, accumulate, check; report figures."""
    from azure.storage.blob import BlobServiceClient

    from shared.adapters.window_reader import RangeReader, iter_csv_columns, iter_parquet_columns
    from shared.domain.drift import DriftPolicy, WindowAccumulator, baseline_from_profile, check_drift
    from training.baseline_profile import build_profile
    import pandas as pd

    baseline = baseline_from_profile(build_profile(pd.read_csv(data_file("diabetes-dev.csv"))[FEATURES]))
    del pd
    blob = BlobServiceClient.from_connection_string(connection).get_blob_client(CONTAINER, blob_name)
    start = time.perf_counter()
    window = WindowAccumulator(baseline)
    if mode == "csv":
        chunks = iter_csv_columns(blob.download_blob(max_concurrency=1).chunks(), FEATURES, chunk_rows)
    elif mode == "parquet":
        chunks = iter_parquet_columns(blob.download_blob(max_concurrency=1).chunks(), FEATURES, chunk_rows)
    else:
        size = blob.get_blob_properties().size
        reader = RangeReader(lambda offset, length: blob.download_blob(offset, length, max_concurrency=1).readall(), size)
        chunks = iter_parquet_columns(reader, FEATURES, chunk_rows)
    for chunk in chunks:
        window.add(chunk)
    result = check_drift(baseline, window, DriftPolicy())
    seconds = time.perf_counter() - start
    return {
        "mode": mode,
        "rows": window.rows,
        "seconds": seconds,
        "verdict": result.verdict,
        "problems": list(result.problems),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--modes", default="csv,parquet,parquet-range")
    parser.add_argument("--child", nargs=3, metavar=("CONNECTION", "BLOB", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(read_and_check(*args.child, chunk_rows=args.chunk_rows)))
        return

    from azure.storage.blob import BlobServiceClient

    from devstack.processes import azurite_connection_string, free_port, start_azurite

    folder = Path(tempfile.mkdtemp(prefix="drift-stream-"))
    blob_port, queue_port = free_port(), free_port()
    azurite = start_azurite(folder / "azurite", folder / "logs", blob_port, queue_port).wait_ready()
    try:
        connection = azurite_connection_string(blob_port)
        container = BlobServiceClient.from_connection_string(connection).get_container_client(CONTAINER)
        container.create_container()
        files = {}
        for kind, generate in (("csv", generate_csv), ("parquet", generate_parquet)):
            path = folder / f"window.{kind}"
            started = time.perf_counter()
            rows = generate(path, args.rows)
            generated = time.perf_counter() - started
            with open(path, "rb") as f:
                container.upload_blob(path.name, f, overwrite=True, max_concurrency=2)
            files[kind] = path.stat().st_size
            print(f"{kind}: {rows:,} rows, {files[kind] / 1e6:,.0f} MB generated in {generated:.1f} s, uploaded in "
                  f"{time.perf_counter() - started - generated:.1f} s", flush=True)
            path.unlink()
        for mode in args.modes.split(","):
            blob_name = "window.csv" if mode == "csv" else "window.parquet"
            done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--chunk-rows", str(args.chunk_rows),
                                   "--child", connection, blob_name, mode], capture_output=True, text=True, cwd=ROOT)
            if done.returncode != 0:
                print(f"{mode}: failed\n{done.stderr[-2000:]}")
                continue
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            size = files["csv" if mode == "csv" else "parquet"]
            print(f"{mode:>13}: {figures['rows']:,} rows in {figures['seconds']:.1f} s = "
                  f"{figures['rows'] / figures['seconds']:,.0f} rows/s ({size / 1e6 / figures['seconds']:,.0f} MB/s); "
                  f"peak RSS {figures['peak_rss_mb']:.0f} MB (target <= 500 MB "
                  f"{'OK' if figures['peak_rss_mb'] <= 500 else 'MISSED'}); verdict {figures['verdict']}"
                  + (f"; problems: {figures['problems']}" if figures["problems"] else ""), flush=True)
    finally:
        azurite.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

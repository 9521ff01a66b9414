"""Benchmark: the host's memory while the data blob trigger validates a 1 GB file — the SDK-type
BlobClient binding (this app) against the func.InputStream binding it replaced.

    .venv/bin/python bench/blob_trigger_memory.py                  # ~1 GB file, 1 run per variant
    .venv/bin/python bench/blob_trigger_memory.py --size-mb 200 --runs 3

Starts Azurite, uploads a valid CSV made like bench/validate_large.py (the rows of
diabetes-prod.csv repeated; kept in bench/results/), and for each run and variant starts the real
devhost process (python -m devhost) with only the blob trigger enabled, lets the trigger decide a
fresh copy of the file and reads the host process's peak RSS (VmHWM in /proc/<pid>/status) against
its RSS at idle (VmRSS once ready, before the file arrives). Variants, in the same run:

  sdk-client    the app as deployed: on_data_blob(client: blob.BlobClient) gets a client, and the
                ingestion service streams the file in 4 MB ranges
  input-stream  baseline: the same trigger typed func.InputStream, reading the blob into memory
                before deciding, as the worker must when the real host sends it the whole blob
                (one gRPC message) for an InputStream parameter

Prints each run, then the medians and the ratio of the peaks above idle.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.validate_large import make_file  # noqa: E402
from devstack.local_settings import generated_values  # noqa: E402
from devstack.processes import (  # noqa: E402
    AZURITE_ACCOUNT, AZURITE_KEY, PYTHON, azurite_connection_string, free_port, start_azurite, start_process,
)

SOURCE_CONTAINER = "bench-source"
RECEIPTS = "azure-webjobs-hosts"
TIMEOUT_SECONDS = 900

BASELINE_APP = '''"""Baseline for bench/blob_trigger_memory.py: the data trigger typed func.InputStream."""
import azure.functions as func

from shared.bootstrap import get_services

app = func.FunctionApp()


@app.blob_trigger(arg_name="blob", path="%DATA_CONTAINER%/{name}", connection="AzureWebJobsStorage",
                  source=func.BlobSource.EVENT_GRID)
def on_data_blob(blob: func.InputStream) -> None:
    content = blob.read()  # the whole blob, as the real host hands it to an InputStream parameter
    container, _, name = blob.name.partition("/")
    get_services().ingestion.handle_new_file(container, name)
    del content
'''


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak since the process started) of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def other_functions(environ_names: list[str]) -> dict[str, str]:
    """Every function of the app but the data trigger disabled: no timer, queue or job competes."""
    return {f"AzureWebJobs.{name}.Disabled": "true" for name in environ_names if name != "on_data_blob"}


def app_function_names() -> list[str]:
    import function_app

    function_app.app.functions_bindings = None
    return [f.get_function_name() for f in function_app.app.get_functions()]


class Bench:
    def __init__(self, work: Path, size_mb: int):
        from azure.storage.blob import BlobServiceClient

        self.work = work
        self.blob_port, self.queue_port = free_port(), free_port()
        self.azurite = start_azurite(work / "azurite", work / "logs", self.blob_port, self.queue_port).wait_ready()
        self.connection = azurite_connection_string(self.blob_port, self.queue_port)
        self.service = BlobServiceClient.from_connection_string(self.connection, max_single_put_size=8 << 20)
        self.baseline_dir = work / "input-stream-app"
        self.baseline_dir.mkdir()
        (self.baseline_dir / "function_app.py").write_text(BASELINE_APP)
        shutil.copy(ROOT / "host.json", self.baseline_dir / "host.json")
        self.disabled = other_functions(app_function_names())
        self.source = self._upload_source(make_file(size_mb))

    def _upload_source(self, path: Path):
        container = self.service.create_container(SOURCE_CONTAINER)
        started = time.perf_counter()
        with open(path, "rb") as f:
            blob = container.upload_blob("source.csv", f, length=path.stat().st_size, max_concurrency=4)
        print(f"file {path.name}: {path.stat().st_size / 1e6:,.0f} MB uploaded to Azurite in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        return blob

    def close(self) -> None:
        self.azurite.stop()

    def run(self, variant: str, index: int) -> dict[str, float]:
        """One host process, one fresh copy of the file: idle and peak RSS, seconds to the decision."""
        container = f"data-{variant}"
        if not self.service.get_container_client(container).exists():
            self.service.create_container(container)
        name = f"landing/run-{index}.csv"
        host_id = f"bench-{variant}"
        port = free_port()
        env = {
            **generated_values(), **self.disabled,
            "AzureWebJobsStorage": self.connection, "AzureFunctionsWebHost__hostid": host_id,
            "DATA_CONTAINER": container, "STATE_CONTAINER": f"state-{variant}",
            "QUARANTINE_CONTAINER": f"quarantine-{variant}",
            "LOCAL_JOBS_DIR": str(self.work / "jobs"), "LOCAL_ENDPOINTS_DIR": str(self.work / "endpoints"),
            "DEVHOST_BLOB_POLL_SECONDS": "0.5", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
        }
        app_dir = ROOT if variant == "sdk-client" else self.baseline_dir
        host = start_process(f"host-{variant}-{index}", [PYTHON, "-m", "devhost", "--app-dir", str(app_dir),
                                                         "--port", str(port)], self.work / "logs", env=env,
                             ready_url=f"http://127.0.0.1:{port}/admin/host/status").wait_ready(120)
        try:
            time.sleep(2)  # the first scan of the empty container is done
            idle = memory_kib(host.process.pid)["VmRSS"]
            started = time.perf_counter()
            self._copy_in(container, name)
            receipt = self.service.get_blob_client(RECEIPTS, f"blobreceipts/{host_id}/on_data_blob/{container}/{name}")
            while not receipt.exists():
                if time.perf_counter() - started > TIMEOUT_SECONDS or not host.running():
                    raise SystemExit(f"{variant}: no decision; host log:\n{host.log_tail(40)}")
                time.sleep(0.2)
            seconds = time.perf_counter() - started
            peak = memory_kib(host.process.pid)["VmHWM"]
            accepted = any(b.name.startswith("_accepted/")
                           for b in self.service.get_container_client(container).list_blobs())
        finally:
            host.stop()
        self._empty(container)
        if not accepted:
            raise SystemExit(f"{variant}: the file was not accepted; host log:\n{host.log_tail(40)}")
        return {"idle_mb": idle / 1024, "peak_mb": peak / 1024, "above_idle_mb": (peak - idle) / 1024,
                "seconds": seconds}

    def _copy_in(self, container: str, name: str) -> None:
        """A new version of the file in the watched container, copied inside Azurite (no upload)."""
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        sas = generate_blob_sas(AZURITE_ACCOUNT, SOURCE_CONTAINER, "source.csv", account_key=AZURITE_KEY,
                                permission=BlobSasPermissions(read=True),
                                expiry=datetime.now(timezone.utc) + timedelta(hours=1))
        target = self.service.get_blob_client(container, name)
        target.start_copy_from_url(f"{self.source.url}?{sas}", requires_sync=True)

    def _empty(self, container: str) -> None:
        client = self.service.get_container_client(container)
        for blob in client.list_blobs():
            client.delete_blob(blob.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024, help="approximate file size in MiB (default 1024)")
    parser.add_argument("--runs", type=int, default=1, help="runs per variant (medians are reported)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="blob-trigger-bench-"))
    bench = Bench(work, args.size_mb)
    results: dict[str, list[dict[str, float]]] = {"sdk-client": [], "input-stream": []}
    try:
        for index in range(args.runs):
            for variant in results:
                result = bench.run(variant, index)
                results[variant].append(result)
                print(f"run {index + 1} {variant:<12}  idle RSS {result['idle_mb']:7.1f} MiB  peak RSS "
                      f"{result['peak_mb']:7.1f} MiB  (+{result['above_idle_mb']:7.1f} MiB)  "
                      f"decided in {result['seconds']:5.1f} s", flush=True)
    finally:
        bench.close()
        shutil.rmtree(work, ignore_errors=True)
    medians = {v: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for v, runs in results.items()}
    print(f"medians of {args.runs} run(s), host process (devhost, the function runs in it):")
    for variant, m in medians.items():
        print(f"  {variant:<12}  idle {m['idle_mb']:7.1f} MiB  peak {m['peak_mb']:7.1f} MiB  "
              f"above idle {m['above_idle_mb']:7.1f} MiB  {m['seconds']:5.1f} s")
    sdk, stream = medians["sdk-client"]["above_idle_mb"], medians["input-stream"]["above_idle_mb"]
    print(f"  the InputStream baseline holds {stream / max(sdk, 0.1):.0f}x the SDK-type binding's memory above idle")


if __name__ == "__main__":
    main()

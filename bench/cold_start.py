"""Benchmark: cold start of the Functions app — `import function_app` + indexing every function.

    .venv/bin/python bench/cold_start.py [--runs 7]

Each sample is a fresh Python process (as a cold worker is). The baseline, measured in the
same run, is the same app with its adapters and ML libraries imported eagerly at module
level, as a naive app would do. Prints medians of wall time and peak RSS, and the ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, resource, sys, time
start = time.perf_counter()
{eager}
import function_app
functions = function_app.app.get_functions()
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "functions": len(functions),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

EAGER = ("import azure.storage.blob, azure.identity, mlflow, sklearn.ensemble, pandas; "
         "import shared.adapters.blob_storage, shared.adapters.local_ml.platform")

AZURE_ENV = {"ML_BACKEND": "azure", "AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000",
             "AZURE_RESOURCE_GROUP": "rg", "AZUREML_WORKSPACE": "ws"}

VARIANTS = {
    "lazy (this app), local": {"eager": "", "env": {"ML_BACKEND": "local"}},
    "lazy (this app), azure": {"eager": "", "env": AZURE_ENV},
    "eager-import baseline": {"eager": EAGER + "; import azure.ai.ml", "env": {}},
}


def sample(eager: str, env: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(eager=eager)], cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sample("", {})  # warm the OS file cache so both variants start from the same state
    medians = {}
    for name, variant in VARIANTS.items():
        runs = [sample(variant["eager"], variant["env"]) for _ in range(args.runs)]
        medians[name] = {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
            "functions": runs[0]["functions"],
        }
    print(f"cold start: import function_app + index all functions (median of {args.runs} fresh processes)")
    baseline = medians["eager-import baseline"]
    for name, m in medians.items():
        print(f"  {name:<24} {m['seconds']*1000:7.0f} ms  peak RSS {m['peak_rss_mb']:6.1f} MB  "
              f"{m['functions']} functions  ({m['seconds']/baseline['seconds']:.2f}x the baseline time)")
    print("  targets: <= 500 ms and <= 80 MB peak RSS")


if __name__ == "__main__":
    main()

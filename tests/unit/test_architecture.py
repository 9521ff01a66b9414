"""The import rules of the architecture, enforced: import-linter contracts and a lazy cold start."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["azure.storage.blob", "azure.ai.ml", "azure.identity", "mlflow", "sklearn", "pandas", "numpy", "matplotlib"]


def test_import_contracts_are_kept():
    # In a subprocess: import-linter reconfigures logging, which would silence other tests' loggers.
    linter = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(linter), "--config", str(ROOT / ".importlinter")], cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stdout[-3000:]


def test_indexing_the_app_imports_no_heavy_library():
    script = (
        "import sys, json, function_app\n"
        "names = [f.get_function_name() for f in function_app.app.get_functions()]\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(json.dumps({'functions': names, 'heavy': heavy}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert {"on_data_blob", "training_scheduler", "mlflow_webhook", "list_data", "list_jobs"} <= set(report["functions"])

"""The pip requirements written into the saved model (requirements.txt, conda.yaml): what Azure ML's
no-code MLflow deployment and `mlflow models serve` install to serve it. Standard library only, so
the app's tests can read them without importing MLflow or scikit-learn.

Listing them skips MLflow's inference of requirements (a subprocess that reloads the model: ~5 s).
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as package_version

# Pinned to the versions this process runs: the training environment (environment/conda.yml).
FROM_TRAINING_ENVIRONMENT = ("mlflow", "scikit-learn", "skops", "numpy", "pandas", "scipy")
# Needed only where the model is served. The scoring script that Azure ML generates for an MLflow
# model imports azureml.ai.monitoring (its data collector), and the environment it builds holds
# only the model's own requirements on top of its inference server: without this package the
# deployment's container exits with "No module named 'azureml.ai'" (Azure/azureml-examples
# PRs #3904, #3923). 1.0.0 is the only release; it needs pandas >= 1.5.2 and requests.
SERVING_ONLY = ("azureml-ai-monitoring==1.0.0",)
# mlflow-skinny is MLflow's client without the server: the same project, the same version.
SAME_PROJECT = {"mlflow": ("mlflow", "mlflow-skinny")}


def installed_version(name: str) -> str:
    for distribution in SAME_PROJECT.get(name, (name,)):
        try:
            return package_version(distribution)
        except PackageNotFoundError:
            continue
    raise RuntimeError(f"{name} is not installed here: the model's requirements cannot be pinned")


def model_requirements() -> list[str]:
    """`name==version` for each requirement: every one pinned, every one a PyPI package."""
    return [f"{name}=={installed_version(name)}" for name in FROM_TRAINING_ENVIRONMENT] + list(SERVING_ONLY)

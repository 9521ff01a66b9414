"""Submit an Azure ML training job on the service's current training set with this checkout's
training code (run by .github/workflows/retrain-on-code-change.yml).

The training set comes from the app (GET /api/training-sets/current with a function key): the
accepted file versions, each read from its immutable copy `_accepted/<sha256>`, and the manifest
id. The job is built by the app's own builder (shared/adapters/azure_ml/training_job.py), so it
reads exactly the files the service's next job would read, checks each copy's sha256, and writes
the same manifest; `training/` of the checkout is its code. The registered model then takes the
service's usual path (ModelRegistered → gate → staging → smoke test → approval request).

    APP_FUNCTION_KEY=... python infra/scripts/retrain_current.py --app-url https://<app> \\
        --subscription <id> --resource-group <ml rg> --workspace <ws> --job-name retrain-code-<sha>

The key is read from the environment only (never an argument, never printed).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from the checkout
    sys.path.insert(0, str(ROOT))

from shared.adapters.azure_ml.config import AzureMLConfig  # noqa: E402
from shared.domain.batches import BatchRef  # noqa: E402
from shared.domain.errors import Conflict, DomainError, NotFound  # noqa: E402
from shared.domain.training import training_set_id  # noqa: E402
from shared.ports import TrainingJobRequest  # noqa: E402

ROUTE = "/api/training-sets/current"
KEY_ENV = "APP_FUNCTION_KEY"
SHA256 = re.compile(r"[0-9a-f]{64}")
JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{2,254}")
TIMEOUT_SECONDS = 60


class RetrainError(Exception):
    """A problem this script names (the workflow shows the message, never the key)."""


@dataclass(frozen=True)
class Submitted:
    job_name: str
    training_set_id: str
    files: int
    created: bool
    studio_url: str = ""


def fetch_training_set(app_url: str, key: str, timeout: float = TIMEOUT_SECONDS) -> dict:
    """The app's current training set (the body of GET /api/training-sets/current)."""
    if not key:
        raise RetrainError(f"{KEY_ENV} is empty: a function key of the app is needed")
    request = urllib.request.Request(app_url.rstrip("/") + ROUTE, headers={"x-functions-key": key,
                                                                           "accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        raise RetrainError(f"GET {ROUTE} answered {error.code}: {_error_text(error)}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise RetrainError(f"GET {ROUTE} failed: {getattr(error, 'reason', error)}") from None
    try:
        body = json.loads(raw)
    except ValueError:
        raise RetrainError(f"GET {ROUTE} did not answer JSON") from None
    if not isinstance(body, dict):
        raise RetrainError(f"GET {ROUTE} did not answer a JSON object")
    return body


def _error_text(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("error", ""))[:300] or error.reason
    except (ValueError, AttributeError, OSError):
        return str(error.reason)


def training_request(body: dict, job_name: str, experiment: str) -> TrainingJobRequest:
    """The job request for the app's answer; refuses an answer whose id is not its batches' id."""
    if not JOB_NAME.fullmatch(job_name):
        raise RetrainError(f"job name {job_name!r}: letters, digits, '-' and '_', 3-255 characters")
    batches = body.get("batches")
    if not isinstance(batches, list) or not batches:
        raise RetrainError("the app's training set has no batches")
    refs = tuple(_batch(b, i) for i, b in enumerate(batches))
    expected = training_set_id(list(refs))
    if body.get("training_set_id") != expected:
        raise RetrainError(f"the app's training set id {body.get('training_set_id')!r} is not the id of its "
                           f"batches ({expected}): refusing to train on it")
    model_name, parameters = body.get("model_name"), body.get("parameters", {})
    if not isinstance(model_name, str) or not model_name:
        raise RetrainError("the app's training set names no model")
    if not isinstance(parameters, dict):
        raise RetrainError("the app's training parameters are not an object")
    return TrainingJobRequest(job_name=job_name, model_name=model_name, inputs=refs, training_set_id=expected,
                              parameters=dict(parameters), experiment=experiment)


def _batch(doc: object, index: int) -> BatchRef:
    if not isinstance(doc, dict):
        raise RetrainError(f"batch {index} is not an object")
    fields = {k: doc.get(k, "") for k in ("container", "name", "etag", "sha256", "copy_name", "copy_etag")}
    if not all(isinstance(v, str) for v in fields.values()) or not all(fields[k] for k in ("container", "name", "etag")):
        raise RetrainError(f"batch {index}: container, name and etag must be non-empty strings")
    if not SHA256.fullmatch(fields["sha256"]):
        raise RetrainError(f"batch {index} ({fields['name'][:80]!r}): sha256 must be 64 hex digits")
    ref = BatchRef(**fields)
    if ref.copy_name and not ref.copy_etag:
        raise RetrainError(f"batch {index} ({ref.name[:80]!r}): its immutable copy has no ETag")
    return ref


def submit(ml_client, config: AzureMLConfig, request: TrainingJobRequest, tags: dict[str, str]) -> Submitted:
    """Register the training set's data asset and create the command job (the app's builder);
    an existing job of that name (a re-run) is left as it is."""
    from shared.adapters.azure_ml.errors import azure_step
    from shared.adapters.azure_ml.training_job import TrainingJobBuilder

    summary = dict(job_name=request.job_name, training_set_id=request.training_set_id, files=len(request.inputs))
    step = f"submit Azure ML training job {request.job_name!r}"
    try:
        with azure_step(f"{step}: look up the job"):
            existing = ml_client.jobs.get(request.job_name)
        return Submitted(**summary, created=False, studio_url=getattr(existing, "studio_url", "") or "")
    except NotFound:
        pass
    builder = TrainingJobBuilder(ml_client, config)
    job = builder.command_job(request, builder.register_training_set(request))
    job.tags = {**(job.tags or {}), **tags}
    try:
        with azure_step(step):
            created = ml_client.jobs.create_or_update(job)
    except Conflict:  # created by a concurrent run of the same name: the same job
        return Submitted(**summary, created=False)
    return Submitted(**summary, created=True, studio_url=getattr(created, "studio_url", "") or "")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app-url", default=env("APP_BASE_URL", ""), help="https://<app host> (APP_BASE_URL)")
    parser.add_argument("--subscription", default=env("AZURE_SUBSCRIPTION_ID", ""))
    parser.add_argument("--resource-group", default=env("AZUREML_RESOURCE_GROUP", ""))
    parser.add_argument("--workspace", default=env("AZUREML_WORKSPACE", ""))
    parser.add_argument("--compute", default=env("AZUREML_COMPUTE") or "cpu-cluster")
    parser.add_argument("--environment", default=env("AZUREML_ENVIRONMENT") or "azureml:diabetes-train-env@latest")
    parser.add_argument("--datastore", default=env("AZUREML_DATASTORE") or "retraindata")
    parser.add_argument("--experiment", default=env("AZUREML_EXPERIMENT") or "diabetes-training")
    parser.add_argument("--job-name", required=True)
    parser.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="extra job tag")
    args = parser.parse_args(argv)
    missing = [f"--{n.replace('_', '-')}" for n in ("app_url", "subscription", "resource_group", "workspace")
               if not getattr(args, n)]
    if missing:
        parser.error("missing " + ", ".join(missing))
    return args


def main(argv: list[str] | None = None, ml_client=None) -> int:
    args = parse_args(argv)
    tags = dict(t.split("=", 1) for t in args.tag if "=" in t)
    config = AzureMLConfig(subscription_id=args.subscription, resource_group=args.resource_group,
                           workspace=args.workspace, compute=args.compute, environment=args.environment,
                           experiment=args.experiment, data_datastore=args.datastore)
    try:
        body = fetch_training_set(args.app_url, os.environ.get(KEY_ENV, ""))
        request = training_request(body, args.job_name, args.experiment)
        if ml_client is None:
            from shared.adapters.azure_ml.client import build_ml_client

            ml_client = build_ml_client(config)
        done = submit(ml_client, config, request, {"trigger": "training-code-change", **tags})
    except (RetrainError, DomainError) as error:
        print(f"::error::{getattr(error, 'message', error)}", file=sys.stderr)
        return 1
    verb = "submitted" if done.created else "exists already"
    print(f"Azure ML job {done.job_name} {verb}: training set {done.training_set_id} ({done.files} file(s)) "
          f"{done.studio_url}".rstrip())
    _github_output(job=done.job_name, training_set_id=done.training_set_id, files=str(done.files))
    return 0


def _github_output(**values: str) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.writelines(f"{k}={v}\n" for k, v in values.items())


if __name__ == "__main__":
    sys.exit(main())

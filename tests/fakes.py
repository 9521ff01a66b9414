"""In-memory fakes of the ports, with the same ETag semantics as Blob Storage."""
from __future__ import annotations

import copy
import itertools
import json
import threading
from datetime import datetime, timezone
from dataclasses import dataclass, field, replace

from shared.domain.audit_chain import chained
from shared.domain.errors import InvalidInput, Unavailable
from shared.domain.training import COMPLETED, QUEUED, JobStatus
from shared.ports import (
    DocumentChanged,
    DocumentExists,
    FileInfo,
    FileNotFound,
    ModelVersionInfo,
    Notification,
    TrainingJobRequest,
    KeyPage,
    Versioned,
)

_etags = itertools.count(1)


def _etag() -> str:
    return f'"0x{next(_etags):08X}"'


class FakeDocumentStore:
    def __init__(self):
        self.docs: dict[str, tuple[dict, str]] = {}
        self.lock = threading.Lock()
        self.writes = 0

    def get(self, key):
        with self.lock:
            if key not in self.docs:
                return None
            doc, etag = self.docs[key]
            return Versioned(key, copy.deepcopy(doc), etag)

    def create(self, key, doc):
        with self.lock:
            if key in self.docs:
                raise DocumentExists(key)
            return self._put(key, doc)

    def replace(self, key, doc, etag):
        with self.lock:
            if key not in self.docs or self.docs[key][1] != etag:
                raise DocumentChanged(key)
            return self._put(key, doc)

    def list(self, prefix):
        with self.lock:
            keys = sorted(k for k in self.docs if k.startswith(prefix))
        return [self.get(k) for k in keys]

    def list_keys(self, prefix, limit, continuation=None):
        with self.lock:
            keys = sorted(k for k in self.docs if k.startswith(prefix) and (continuation is None or k > continuation))
        page = keys[:limit]
        return KeyPage(page, page[-1] if len(keys) > limit else None)

    def _put(self, key, doc):
        etag = _etag()
        self.docs[key] = (copy.deepcopy(doc), etag)
        self.writes += 1
        return etag


class FakeFileStore:
    def __init__(self):
        self.files: dict[tuple[str, str], tuple[bytes, str]] = {}
        self.metadata: dict[tuple[str, str], dict] = {}

    def upload(self, container, name, data: bytes, metadata: dict | None = None) -> str:
        etag = _etag()
        self.files[(container, name)] = (data, etag)
        self.metadata[(container, name)] = dict(metadata or {})
        return etag

    def info(self, container, name):
        if (container, name) not in self.files:
            raise FileNotFound(name)
        data, etag = self.files[(container, name)]
        return FileInfo(container, name, etag, len(data), dict(self.metadata.get((container, name), {})))

    def read_chunks(self, container, name, etag, chunk_size=4 * 1024 * 1024):
        data, current = self.files.get((container, name), (b"", None))
        if current != etag:
            raise FileNotFound(name)
        for start in range(0, len(data), chunk_size):
            yield data[start:start + chunk_size]

    def copy(self, container, name, etag, to_container, to_name):
        data, current = self.files.get((container, name), (b"", None))
        if current != etag:
            raise FileNotFound(name)
        self.upload(to_container, to_name, data)

    def keep_copy(self, container, name, etag, to_container, to_name):
        if (to_container, to_name) not in self.files:
            self.copy(container, name, etag, to_container, to_name)
        return self.info(to_container, to_name)

    def delete(self, container, name):
        """What a person does in the portal (not a port operation)."""
        del self.files[(container, name)]

    def write(self, container, name, data, content_type="application/json"):
        self.upload(container, name, data)


FAKE_MLFLOW_UI = "http://mlflow.test:5000"


class _EveryRun:
    def __contains__(self, run_id) -> bool:
        return bool(run_id)


_EVERY_RUN = _EveryRun()


@dataclass
class FakeMLPlatform:
    submitted: list[TrainingJobRequest] = field(default_factory=list)
    statuses: dict[str, JobStatus] = field(default_factory=dict)
    model_versions: dict[tuple[str, str], ModelVersionInfo] = field(default_factory=dict)
    # (name, version) → {relative path: bytes}; a version without an entry has files naming it
    artifacts: dict[tuple[str, str], dict[str, bytes]] = field(default_factory=dict)

    def submit_training_job(self, request):
        if request.job_name not in self.statuses:
            self.submitted.append(request)
            self.statuses[request.job_name] = JobStatus(request.job_name, QUEUED)
        return request.job_name

    def get_job(self, job_name):
        from shared.domain.errors import NotFound

        if job_name not in self.statuses:  # as both adapters answer a job they do not know
            raise NotFound(f"job {job_name!r} does not exist")
        return self.statuses[job_name]

    def complete(self, job_name, version="1"):
        self.statuses[job_name] = JobStatus(job_name, COMPLETED, model_version=version, run_id="run-1")

    def get_model_version(self, name, version):
        from shared.domain.errors import NotFound

        if (name, str(version)) not in self.model_versions:
            raise NotFound(f"model {name} version {version} is not registered")
        return self.model_versions[(name, str(version))]

    def model_artifact_digest(self, name, version):
        import hashlib

        from shared.ports import artifact_digest

        self.get_model_version(name, version)  # NotFound as the registry answers
        files = self.artifacts.get((name, str(version))) or {
            "MLmodel": f"flavors: sklearn\nname: {name}\nversion: {version}\n".encode(),
            "model.skops": f"weights of {name} v{version}".encode()}
        return artifact_digest((path, hashlib.sha256(data).hexdigest()) for path, data in files.items())

    def run_url(self, run_id):
        from shared.domain.errors import NotFound

        if run_id not in self.known_runs():
            raise NotFound(f"run {run_id!r} does not exist")
        return f"{FAKE_MLFLOW_UI}/#/experiments/0/runs/{run_id}"

    def known_runs(self) -> set:
        return ({info.run_id for info in self.model_versions.values()}
                | {status.run_id for status in self.statuses.values()}) - {None}

    def set_artifacts(self, name, version, files: dict[str, bytes]) -> None:
        """The version's artifact files (what a person overwriting them in the store would leave)."""
        self.artifacts[(name, str(version))] = dict(files)

    def list_model_versions(self, name):
        found = [info for (model, _), info in self.model_versions.items() if model == name]
        return [replace(info, metrics={}) for info in sorted(found, key=lambda info: int(info.version))]

    def register_model_version(self, name, version, job_name=None, run_id="run", **tags) -> ModelVersionInfo:
        """A version in the registry, as training registers one (tagged with its job when given)."""
        all_tags = {"training_set_id": "abc", "training_set_batches": "1", **tags}
        if job_name:
            all_tags["job_name"] = job_name
        info = ModelVersionInfo(name, str(version), run_id, f"models:/{name}/{version}", all_tags, {"auc": 0.9})
        self.model_versions[(name, str(version))] = info
        return info


@dataclass
class FakeNotifier:
    sent: list[Notification] = field(default_factory=list)

    def notify(self, notification):
        self.sent.append(notification)


class FakeClock:
    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, **delta):
        from datetime import timedelta

        self.now += timedelta(**delta)


class FakeOnlineEndpoints:
    """The endpoint semantics that matter to the core: names, 0% deployments, traffic rules, failures on demand."""

    def __init__(self):
        self.endpoints: dict[str, dict] = {}
        self.fail: dict[str, Exception] = {}  # method name → error to raise
        self.answers: dict[str, object] = {}  # deployment → body to answer
        self.calls: list[tuple] = []
        self.lock = threading.Lock()

    def _maybe_fail(self, method):
        if method in self.fail:
            raise self.fail[method]

    def ensure_endpoint(self, endpoint, wait=True):
        self._maybe_fail("ensure_endpoint")
        self.endpoints.setdefault(endpoint, {"traffic": {}, "mirror": {}, "deployments": {}})
        return self.get_endpoint(endpoint)

    def get_endpoint(self, endpoint):
        from shared.domain.errors import NotFound
        from shared.ports import DeploymentInfo, EndpointInfo

        if endpoint not in self.endpoints:
            raise NotFound(endpoint)
        state = self.endpoints[endpoint]
        return EndpointInfo(endpoint, f"http://fake/{endpoint}/score", dict(state["traffic"]), dict(state["mirror"]),
                            tuple(DeploymentInfo(n, m, v, "Succeeded") for n, (m, v) in state["deployments"].items()))

    def create_or_update_deployment(self, endpoint, deployment, model_name, model_version, timeout_seconds=600):
        from shared.domain.naming import validate_deployment_name
        from shared.ports import DeploymentInfo

        validate_deployment_name(deployment)
        self._maybe_fail("create_or_update_deployment")
        with self.lock:
            self.calls.append(("deploy", deployment, model_version))
            self.endpoints[endpoint]["deployments"][deployment] = (model_name, model_version)
        return DeploymentInfo(deployment, model_name, model_version, "Succeeded")

    def begin_deployment(self, endpoint, deployment, model_name, model_version):
        self._maybe_fail("begin_deployment")
        return self.create_or_update_deployment(endpoint, deployment, model_name, model_version)

    def get_deployment(self, endpoint, deployment):
        self._maybe_fail("get_deployment")
        if endpoint not in self.endpoints:
            return None
        return self.get_endpoint(endpoint).deployment(deployment)

    def delete_deployment(self, endpoint, deployment, wait=True):
        from shared.domain.errors import Conflict

        self._maybe_fail("delete_deployment")
        state = self.endpoints.get(endpoint, {"traffic": {}, "mirror": {}, "deployments": {}})
        if state["traffic"].get(deployment) or state["mirror"].get(deployment):
            raise Conflict(f"{deployment} has traffic")
        with self.lock:
            self.calls.append(("delete", deployment))
            state["deployments"].pop(deployment, None)

    def set_traffic(self, endpoint, traffic, mirror_traffic=None, wait=True):
        from shared.domain.errors import InvalidInput

        self._maybe_fail("set_traffic")
        state = self.endpoints[endpoint]
        if any(name not in state["deployments"] for name in list(traffic) + list(mirror_traffic or {})):
            raise InvalidInput("unknown deployment")
        if sum(traffic.values()) not in (0, 100):
            raise InvalidInput("traffic must sum to 0 or 100")
        with self.lock:
            self.calls.append(("traffic", dict(traffic), dict(mirror_traffic or {})))
            state["traffic"] = {k: v for k, v in traffic.items() if v}
            if mirror_traffic is not None:
                state["mirror"] = {k: v for k, v in mirror_traffic.items() if v}
        return self.get_endpoint(endpoint)

    def invoke(self, endpoint, body, deployment=None, timeout_seconds=30):
        from shared.ports import ScoringResult

        self._maybe_fail("invoke")
        rows = len(body["input_data"]["data"])
        answer = self.answers.get(deployment, [i % 2 for i in range(rows)])
        return ScoringResult(200, answer, 3.0)


class FakeCapturedInputs:
    """Capture segments in memory, one CSV per (endpoint, deployment, hour), with the adapters' rules:
    names validated, oldest hour first, `since` leaves earlier hours out, a new version on each
    append, a read of a version covers what that version held, nothing once it is gone."""

    ENDPOINT = "diabetes-endpoint"

    def __init__(self, chunk_size: int = 64 * 1024):
        self.files: dict[tuple[str, str, str], bytes] = {}  # (endpoint, deployment, hour) → CSV
        self.versions: dict[tuple[str, str, str], str] = {}
        self.reads: list[str] = []  # keys read, in order
        self.chunk_size = chunk_size

    def add(self, deployment: str, csv_data: bytes, hour: str = "2026-11-22T11:00:00Z", endpoint: str = ENDPOINT):
        """Append the rows of a CSV (header first) to that hour's segment (its header kept once)."""
        key = (endpoint, deployment, hour)
        current = self.files.get(key)
        self.files[key] = csv_data if current is None else current + csv_data.split(b"\n", 1)[1]
        self.versions[key] = _etag()

    def remove(self, deployment: str, hour: str, endpoint: str = ENDPOINT):
        self.files.pop((endpoint, deployment, hour), None)

    def segments(self, endpoint, deployment, since=None):
        from shared.domain.naming import validate_deployment_name, validate_endpoint_name
        from shared.ports import CaptureSegment

        validate_endpoint_name(endpoint), validate_deployment_name(deployment)
        start = None if since is None else datetime.fromisoformat(since).replace(minute=0, second=0, microsecond=0)
        return sorted((CaptureSegment(e, d, f"{e}/{d}/{h}", self.versions[(e, d, h)], h, len(data))
                       for (e, d, h), data in self.files.items() if (e, d) == (endpoint, deployment)
                       and (start is None or datetime.fromisoformat(h) >= start)), key=lambda s: s.hour)

    def read(self, segment):
        from shared.domain.errors import InvalidInput

        if segment.key != f"{segment.endpoint}/{segment.deployment}/{segment.hour}":
            raise InvalidInput(f"{segment.key!r} is not a capture segment")
        self.reads.append(segment.key)
        data = self.files.get((segment.endpoint, segment.deployment, segment.hour), b"")[:segment.size or None]
        for start in range(0, len(data), self.chunk_size):
            yield data[start:start + self.chunk_size]


class FakeDeliveryPlatform(FakeMLPlatform):
    """Adds what the outer loop asks of the ML platform: evaluation and input examples."""

    def __init__(self, registry_only: bool = False):
        super().__init__()
        self.scores: dict[str, dict] = {}  # version → metrics on any held-out data
        self.evaluations: list[tuple] = []
        # False: an unregistered version is answered as if training had registered it (for tests
        # that start the pipeline directly); True: only registered versions exist, as on MLflow.
        self.registry_only = registry_only

    def evaluate_models(self, model_name, versions, data_from_version):
        self.evaluations.append((tuple(versions), data_from_version))
        return {v: {**self.scores.get(v, {"auc": 0.9, "accuracy": 0.85}), "rows": 150} for v in versions}

    def predict_proba(self, model_name, versions, rows):
        from tests.fake_predictions import predict_proba

        if rows.heldout_of:
            self.evaluations.append((tuple(versions), rows.heldout_of))
        return predict_proba(self, model_name, versions, rows)

    def get_input_example(self, model_name, version):
        return ["Pregnancies", "Age"], [[1, 30], [2, 40]]

    def known_runs(self) -> set:
        """Without registry_only every run exists, as every version does."""
        return super().known_runs() if self.registry_only else _EVERY_RUN

    def get_model_version(self, name, version):
        if self.registry_only or (name, str(version)) in self.model_versions:
            return super().get_model_version(name, version)
        return ModelVersionInfo(name, version, "run", "src", {"training_set_id": "abc", "training_set_batches": "1",
                                                            "job_name": "train-1"}, {})


class FakeAuditLog:
    """Append-only and hash-chained like the blob: an entry is chained to the tail it read and lands only
    if no other append came in between (the blob's append-position condition), else it tries again, at
    most `attempts` times; stored as JSON, stamped with `recorded_at` if missing. Tests may tamper
    with `entries` to play an attacker."""

    def __init__(self, clock=None, attempts: int = 50):
        self.entries: list = []
        self.lock = threading.Lock()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.attempts = attempts
        self.lost_races = 0

    def append(self, entry):
        if not isinstance(entry, dict):
            raise InvalidInput("an audit entry must be a JSON object")
        record = dict(entry)
        if "recorded_at" not in record:
            record["recorded_at"] = self.clock().isoformat()
        record = json.loads(json.dumps(record, default=str))  # what the blob stores and gives back
        for _ in range(self.attempts):
            with self.lock:
                length = len(self.entries)
                tail = copy.deepcopy(self.entries[-1]) if length else None
            stored = chained(record, tail)
            with self.lock:
                if len(self.entries) == length:
                    self.entries.append(stored)
                    return copy.deepcopy(stored)
                self.lost_races += 1
        raise Unavailable(f"the audit log is busy: {self.attempts} appends lost to other writers")

    def read(self, limit=100):
        if limit <= 0:
            return []
        with self.lock:
            return copy.deepcopy([e for e in self.entries if isinstance(e, dict)][::-1][:limit])

    def scan(self):
        with self.lock:
            snapshot = copy.deepcopy(self.entries)
        yield from snapshot


class FakeStepQueue:
    """The step queue as the Functions host serves it, run inline: each message is delivered at once
    (delays are not waited), a failing step is delivered again up to `max_dequeue_count` times, then
    it lands in `poison`. `inline=False` keeps messages until `drain()`."""

    def __init__(self, max_dequeue_count: int = 5, inline: bool = True):
        self.runner = None  # the StepRunner, attached once the services are built
        self.max_dequeue_count = max_dequeue_count
        self.inline = inline
        self.pending: list[tuple[str, str, float]] = []
        self.sent: list[tuple[str, float]] = []
        self.poison: list[str] = []
        self.outcomes: list[str] = []
        self._draining = False
        self._ids = itertools.count(1)
        self.lock = threading.RLock()

    def enqueue(self, body, delay_seconds=0):
        with self.lock:
            self.sent.append((body, delay_seconds))
            self.pending.append((f"m{next(self._ids)}", body, delay_seconds))
        if self.inline:
            self.drain()

    def drain(self, limit: int = 10_000) -> None:
        with self.lock:
            if self._draining:
                return
            self._draining = True
        try:
            for _ in range(limit):
                with self.lock:
                    if not self.pending:
                        return
                    message_id, body, _ = self.pending.pop(0)
                self._deliver(message_id, body)
        finally:
            self._draining = False

    def _deliver(self, message_id: str, body: str) -> None:
        for dequeue_count in range(1, self.max_dequeue_count + 1):
            try:
                self.outcomes.append(self.runner.run(body, message_id, dequeue_count))
                return
            except Exception:  # noqa: BLE001 - the host would make it visible again
                continue
        self.poison.append(body)

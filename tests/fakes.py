"""In-memory fakes of the ports, with the same ETag semantics as Blob Storage."""
from __future__ import annotations

import copy
import itertools
import threading
from dataclasses import dataclass, field

from shared.domain.training import COMPLETED, QUEUED, JobStatus
from shared.ports import (
    DocumentChanged,
    DocumentExists,
    FileInfo,
    FileNotFound,
    ModelVersionInfo,
    Notification,
    TrainingJobRequest,
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

    def _put(self, key, doc):
        etag = _etag()
        self.docs[key] = (copy.deepcopy(doc), etag)
        self.writes += 1
        return etag


class FakeFileStore:
    def __init__(self):
        self.files: dict[tuple[str, str], tuple[bytes, str]] = {}

    def upload(self, container, name, data: bytes) -> str:
        etag = _etag()
        self.files[(container, name)] = (data, etag)
        return etag

    def info(self, container, name):
        if (container, name) not in self.files:
            raise FileNotFound(name)
        data, etag = self.files[(container, name)]
        return FileInfo(container, name, etag, len(data))

    def read_chunks(self, container, name, etag, chunk_size=4 * 1024 * 1024):
        data, current = self.files.get((container, name), (b"", None))
        if current != etag:
            raise FileNotFound(name)
        for start in range(0, len(data), chunk_size):
            yield data[start:start + chunk_size]

    def copy(self, container, name, etag, to_container, to_name):
        data, current = self.files[(container, name)]
        if current != etag:
            raise FileNotFound(name)
        self.upload(to_container, to_name, data)

    def write(self, container, name, data, content_type="application/json"):
        self.upload(container, name, data)


@dataclass
class FakeMLPlatform:
    submitted: list[TrainingJobRequest] = field(default_factory=list)
    statuses: dict[str, JobStatus] = field(default_factory=dict)
    model_versions: dict[tuple[str, str], ModelVersionInfo] = field(default_factory=dict)

    def submit_training_job(self, request):
        if request.job_name not in self.statuses:
            self.submitted.append(request)
            self.statuses[request.job_name] = JobStatus(request.job_name, QUEUED)
        return request.job_name

    def get_job(self, job_name):
        return self.statuses[job_name]

    def complete(self, job_name, version="1"):
        self.statuses[job_name] = JobStatus(job_name, COMPLETED, model_version=version, run_id="run-1")

    def get_model_version(self, name, version):
        return self.model_versions[(name, version)]


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

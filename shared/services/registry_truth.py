"""The model registry is the truth: an event only says where to look.

A version is acted on once the registry shows it exists, belongs to the configured model and
was trained by one of this service's jobs (its `job_name` tag names a job on record). Event
payloads are never trusted for ordering: a phantom or foreign version must not become the
"newest candidate" and make every later real version stale.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain.errors import InvalidInput, NotFound
from shared.domain.model_contract import JOB_NAME_TAG
from shared.domain.models import ModelRegistered
from shared.ports import MLPlatform, ModelVersionInfo
from shared.services.repositories import Repositories
from shared.services.repositories.candidates import newest_version_first


def version_problem(version: str) -> str | None:
    """Why a version number is out of bounds (checked before any registry call), or None."""
    try:
        newest_version_first(version)  # the repositories' bounds: 1 to 99,999,999
    except InvalidInput as error:
        return error.message
    return None


@dataclass(frozen=True)
class Verdict:
    """The registry's answer about a claimed version: the event to act on, or why not."""

    event: ModelRegistered | None
    reason: str = ""


@dataclass
class ReconcileReport:
    listed: int = 0
    started: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    left_for_next_run: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class RegistryTruth:
    """Reads versions back from the registry and decides whether they are ours to act on."""

    def __init__(self, repos: Repositories, platform: MLPlatform, model_name: str):
        self.repos = repos
        self.platform = platform
        self.model_name = model_name

    def confirm(self, event: ModelRegistered) -> Verdict:
        """The version as the registry has it (tags, run), or the reason it is not acted on.
        A registry that cannot be reached raises PlatformError: the delivery is retried."""
        try:
            info = self.platform.get_model_version(self.model_name, event.version)
        except NotFound:
            return Verdict(None, f"the registry has no version {event.version} of model {self.model_name!r}")
        return self.judge(info, event.source, event.delivery_id)

    def judge(self, info: ModelVersionInfo, source: str, delivery_id: str) -> Verdict:
        if info.name != self.model_name:
            return Verdict(None, f"the registry's version {info.version} belongs to model {info.name!r}, "
                                 f"not {self.model_name!r}")
        job_name = info.tags.get(JOB_NAME_TAG)
        if not job_name or not self._our_job(job_name):
            return Verdict(None, f"version {info.version} was not trained by a job of this service "
                                 f"(tag {JOB_NAME_TAG}={str(job_name)[:80]!r})")
        return Verdict(ModelRegistered(
            model_name=self.model_name, version=str(info.version), source=source, delivery_id=delivery_id,
            run_id=info.run_id, model_uri=info.source or None, tags={str(k): str(v) for k, v in info.tags.items()},
        ))

    def _our_job(self, job_name: str) -> bool:
        try:
            return self.repos.jobs.find(job_name) is not None
        except InvalidInput:  # a tag no job name of ours could have
            return False

    def unrecorded(self) -> tuple[int, list[ModelVersionInfo]]:
        """How many versions the registry lists, and those that no event recorded, newest first
        (so an older one finds the newer already taken and goes straight to stale)."""
        recorded = self.repos.model_events.recorded_versions()
        listed = [info for info in self.platform.list_model_versions(self.model_name)
                  if version_problem(str(info.version)) is None]
        missing = [info for info in listed if str(info.version) not in recorded]
        return len(listed), sorted(missing, key=lambda info: int(info.version), reverse=True)

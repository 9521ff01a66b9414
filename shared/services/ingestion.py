"""New data file → validated → accepted (training requested) or rejected (quarantined)."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from shared.domain.batches import ACCEPTED, REJECTED, DataBatch
from shared.domain.clock import iso, parse_iso
from shared.domain.contract import DataContract, validate_csv
from shared.domain.drift.file_profiler import FileProfiler, profile_seed
from shared.domain.drift.window_profile import profile_to_dict
from shared.domain.errors import NotFound, PlatformError
from shared.ports import AuditLog, FileNotFound, FileStore, Notification, Notifier
from shared.services.monitoring.performance import PerformanceTracking
from shared.services.repositories import Page, Repositories
from shared.services.repositories.batches import accepted_copy_name, is_accepted_copy, quarantine_names
from shared.services.training import TrainingService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestionConfig:
    quarantine_container: str
    contract: DataContract
    train_on_new_data: bool = True  # else new data waits for a drift, performance or schedule trigger


class DataIngestion:
    """Decides on each data file version once, however often its blob event is delivered."""

    def __init__(
        self,
        files: FileStore,
        repos: Repositories,
        notifier: Notifier,
        training: TrainingService,
        performance: PerformanceTracking,
        config: IngestionConfig,
        clock,
        audit: AuditLog | None = None,
    ):
        self.files = files
        self.batches = repos.batches
        self.profiles = repos.profiles  # each accepted file's window profile, for the drift checks
        self.accepted = repos.accepted
        self.audit = audit
        self.notifier = notifier
        self.training = training
        self.performance = performance  # the champion scores each accepted batch
        self.config = config
        self.clock = clock

    def handle_new_file(self, container: str, name: str) -> DataBatch | None:
        """Decide on the file's current version; None for one of our own immutable copies."""
        if is_accepted_copy(name):
            return None
        try:
            info = self.files.info(container, name)
        except FileNotFound:
            raise NotFound(f"data file {container}/{name} no longer exists") from None
        stored = self.batches.find(name, info.etag)
        if stored:
            return self._finish(stored)

        received_at = iso(self.clock())
        profiler = FileProfiler(self.config.contract, seed=profile_seed(name, info.etag))
        report = validate_csv(
            self.files.read_chunks(container, name, info.etag),
            self.config.contract,
            declared_size=info.size,
            observer=profiler,
        )
        report_dict = report.to_dict()
        batch = DataBatch(
            container=container,
            name=name,
            etag=info.etag,
            size=info.size,
            status=ACCEPTED if report.accepted else REJECTED,
            received_at=received_at,
            decided_at=iso(self.clock()),
            rows=report.rows,
            sha256=report.sha256,
            summary=report.summary(),
            problems=report_dict["problems"],
            problem_count=report.problem_count,
            uploaded_by=uploader(info.metadata),
        )
        if report.accepted:
            self._keep_copy(batch)
        else:
            batch.quarantine = self._quarantine(batch, report_dict)
        if report.accepted:  # stored before the verdict: an accepted batch record always has its profile
            self.profiles.add(name, info.etag, batch.decided_at, profile_to_dict(profiler.profile))
        recorded = self.batches.add(batch)
        if recorded is not batch:
            # A concurrent delivery of the same version decided first; its record stands.
            return self._finish(recorded)
        log.info("data file %s/%s %s", container, name, batch.summary)
        if batch.status == REJECTED:
            self._notify_rejected(batch)
        return self._finish(batch)

    def list_batches(self, status: str | None = None, limit: int = 100,
                     continuation: str | None = None) -> Page[DataBatch]:
        """File versions and their verdicts, newest first, one page at a time."""
        return self.batches.newest(limit, continuation, status)

    def withdraw(self, name: str, by: str) -> dict:
        """Every version of the file `name` leaves the training data of later jobs (a later upload
        of the name is new data); recorded on each version and in the audit log. NotFound if unknown."""
        versions = self.batches.versions_of(name)
        known = self.accepted.current()
        if not versions and not known.holds(name) and name not in known.withdrawn:
            raise NotFound(f"data file {name[:200]!r} is unknown")
        data = self.accepted.withdraw(name, iso(self.clock()), by)
        withdrawal = data.withdrawn[name]
        withdrawn = [v for v in versions if v.status == ACCEPTED
                     and parse_iso(v.received_at) <= parse_iso(withdrawal["at"])]
        for version in withdrawn:
            self.batches.change(version.id, lambda b: b.withdraw(withdrawal["at"]))
        if not withdrawal.get("audited") and self.audit is not None:
            # At least once: a crash between these two lines repeats the entry on the next DELETE.
            self.audit.append({"at": withdrawal["at"], "action": "data_withdrawn", "actor": withdrawal["by"],
                               "file": name, "versions": [v.id for v in withdrawn]})
            self.accepted.mark_audited(name)
        return {"name": name, "withdrawn_at": withdrawal["at"], "withdrawn_by": withdrawal["by"],
                "versions": [v.id for v in withdrawn]}

    def _finish(self, batch: DataBatch) -> DataBatch:
        """Accepted batches join the training data (and ask for training) exactly once, even after a crash."""
        if batch.status != ACCEPTED or batch.training_requested:
            return batch
        now = iso(self.clock())
        joined = self.training.add_accepted(batch.ref, batch.received_at)
        if joined.replaced:
            self.batches.change(joined.replaced, lambda older: older.supersede(batch.id, now))
        if joined.superseded_by:
            batch = self.batches.change(batch.id, lambda b: b.supersede(joined.superseded_by, now)) or batch
        if joined.withdrawn:
            batch = self.batches.change(batch.id, lambda b: b.withdraw(now)) or batch
        if joined.joined:
            if self.config.train_on_new_data:
                self.training.request_training(batch.ref, reason=f"new data {batch.name}",
                                               requested_by=[batch.uploaded_by] if batch.uploaded_by else [])
            # Scored while the quiet period runs: the job that trains on this file starts after it.
            self._track_performance(batch)

        self.batches.mark_training_requested(batch)
        batch.training_requested = True
        return batch

    def _track_performance(self, batch: DataBatch) -> None:
        try:
            self.performance.track_performance(batch)
        except Exception:  # noqa: BLE001 - monitoring must never hold back the data path
            log.warning("could not score %s with the champion", batch.name, exc_info=True)

    def _keep_copy(self, batch: DataBatch) -> None:
        """The validated bytes, copied server-side under their hash: jobs read this, never the original."""
        try:
            copy = self.files.keep_copy(batch.container, batch.name, batch.etag, batch.container,
                                        accepted_copy_name(batch.sha256))
        except FileNotFound:
            raise NotFound(f"data file {batch.container}/{batch.name} changed while it was validated; "
                           "its newer version is decided on its own event") from None
        if copy.size != batch.size:
            raise PlatformError(f"the kept copy {copy.name} has {copy.size} bytes, not {batch.size}: "
                                "it was changed by hand")
        batch.copy_name, batch.copy_etag = copy.name, copy.etag

    def _quarantine(self, batch: DataBatch, report: dict) -> dict:
        """A copy of the rejected file beside a reason document; the original stays where it is."""
        copy_name, reason_name = quarantine_names(batch)
        quarantine = self.config.quarantine_container
        self.files.copy(batch.container, batch.name, batch.etag, quarantine, copy_name)
        reason = {
            "file": f"{batch.container}/{batch.name}",
            "etag": batch.etag,
            "rejected_at": batch.decided_at,
            "summary": batch.summary,
            "report": report,
        }
        self.files.write(quarantine, reason_name, json.dumps(reason, indent=2).encode())
        return {"container": quarantine, "copy": copy_name, "reason": reason_name}

    def _notify_rejected(self, batch: DataBatch) -> None:
        self.notifier.notify(
            Notification(
                kind="data.rejected",
                title=f"Data file rejected: {batch.name}",
                text=batch.summary,
                facts={
                    "file": f"{batch.container}/{batch.name}",
                    "problems": batch.problem_count,
                    "quarantine": f"{batch.quarantine['container']}/{batch.quarantine['copy']}",
                },
            )
        )


UPLOADED_BY_METADATA = "uploaded_by"


def uploader(metadata: dict) -> str:
    """Who uploaded the file, when the blob's metadata says so (metadata keys arrive in any case)."""
    value = next((v for k, v in (metadata or {}).items() if str(k).lower() == UPLOADED_BY_METADATA), "")
    return str(value).strip()[:200]

"""New data file → validated → accepted (training requested) or rejected (quarantined)."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from shared.domain.batches import ACCEPTED, REJECTED, DataBatch
from shared.domain.clock import iso
from shared.domain.contract import DataContract, validate_csv
from shared.domain.drift.file_profiler import FileProfiler, profile_seed
from shared.domain.drift.window_profile import profile_to_dict
from shared.domain.errors import NotFound
from shared.ports import FileNotFound, FileStore, Notification, Notifier
from shared.services.monitoring.performance import PerformanceTracking
from shared.services.repositories import Page, Repositories
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
    ):
        self.files = files
        self.batches = repos.batches
        self.profiles = repos.profiles  # each accepted file's window profile, for the drift checks
        self.notifier = notifier
        self.training = training
        self.performance = performance  # the champion scores each accepted batch
        self.config = config
        self.clock = clock

    def handle_new_file(self, container: str, name: str) -> DataBatch:
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
        )
        if not report.accepted:
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

    def _finish(self, batch: DataBatch) -> DataBatch:
        """Accepted batches join the training data (and ask for training) exactly once, even after a crash."""
        if batch.status != ACCEPTED or batch.training_requested:
            return batch
        if self.config.train_on_new_data:
            self.training.request_training(batch.ref, reason=f"new data {batch.name}")
        else:
            self.training.add_accepted(batch.ref)
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

    def _quarantine(self, batch: DataBatch, report: dict) -> dict:
        """A copy of the rejected file beside a reason document; the original stays where it is."""
        folder = f"{batch.etag.strip(chr(34))}"
        copy_name = f"{folder}/{batch.name}"
        reason_name = f"{copy_name}.reason.json"
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

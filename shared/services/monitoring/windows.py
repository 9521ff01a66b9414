"""The three windows of a drift check, made from stored profiles: the newest file, the recent window
and everything since the champion was trained. No accepted file is read again (a file accepted
before profiles existed is profiled once, on its first check, and its profile stored).

Captured endpoint inputs are profiled when the check reads them (the port hands them over
as one CSV) and belong to the recent and since-champion windows.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.domain.batches import BatchRef
from shared.domain.drift.window import WindowAccumulator
from shared.domain.drift.window_profile import (
    merge_profiles, new_profile, profile_from_dict, profile_grids, profile_to_dict,
)
from shared.ports import FileStore, WindowReader
from shared.services.repositories import Repositories

log = logging.getLogger(__name__)

NEWEST_FILE, RECENT, SINCE_CHAMPION = "newest_file", "recent", "since_champion"


@dataclass
class Window:
    """A merged profile and what went into it."""

    profile: WindowAccumulator
    files: list[str] = field(default_factory=list)
    captured_rows: int = 0


@dataclass(frozen=True)
class WindowRule:
    recent_rows: int = 5000
    recent_hours: float | None = None   # when set, the recent window is the files of the last hours


class WindowProfiles:
    """Finds (or, once, makes) each file's profile and merges them into the three windows."""

    def __init__(self, repos: Repositories, files: FileStore, reader: WindowReader, contract, rule: WindowRule):
        self.repos = repos
        self.files = files
        self.reader = reader
        self.grids = profile_grids(contract.columns)
        self.rule = rule

    def windows(self, batches: list[BatchRef], captured_chunks, now: datetime) -> dict[str, Window]:
        """The three windows over `batches` (oldest first) and the captured inputs."""
        profiled = [(batch, *self._profile(batch)) for batch in batches]
        captured = self._captured(captured_chunks)
        since = Window(merge_profiles([p for _, p, _ in profiled] + [captured], self.grids),
                       [b.name for b, _, _ in profiled], captured.rows)
        newest = Window(merge_profiles([p for _, p, _ in profiled[-1:]], self.grids),
                        [b.name for b, _, _ in profiled[-1:]])
        recent = self._recent(profiled, captured, now)
        return {NEWEST_FILE: newest, RECENT: recent, SINCE_CHAMPION: since}

    def _recent(self, profiled, captured: WindowAccumulator, now: datetime) -> Window:
        chosen = []
        if self.rule.recent_hours is not None:
            since = now - timedelta(hours=self.rule.recent_hours)
            chosen = [(b, p) for b, p, at in profiled if at and datetime.fromisoformat(at) >= since]
        else:
            rows = captured.rows
            for batch, profile, _ in reversed(profiled):
                if rows >= self.rule.recent_rows:
                    break
                chosen.insert(0, (batch, profile))
                rows += profile.rows
        return Window(merge_profiles([p for _, p in chosen] + [captured], self.grids),
                      [b.name for b, _ in chosen], captured.rows)

    def _profile(self, batch: BatchRef) -> tuple[WindowAccumulator, str | None]:
        """The file's stored profile and when it was decided on; made from the file when missing."""
        stored = self.repos.profiles.find(batch.name, batch.etag)
        if stored is None:
            stored = self._backfill(batch)
        return profile_from_dict(stored["profile"]), stored.get("decided_at")

    def _backfill(self, batch: BatchRef) -> dict:
        log.info("profiling %s once (accepted before window profiles were stored)", batch.name)
        profile = new_profile(self.grids)
        chunks = self.files.read_chunks(*batch.stored_at)
        for columns in self.reader.columns(chunks, _format(batch.name), self.grids.names):
            profile.add(columns)
        record = self.repos.batches.find(batch.name, batch.etag)
        decided_at = record.decided_at if record else ""
        return self.repos.profiles.add(batch.name, batch.etag, decided_at, profile_to_dict(profile))

    def _captured(self, chunks) -> WindowAccumulator:
        profile = new_profile(self.grids)
        for columns in self.reader.columns(chunks, "csv", self.grids.names):
            profile.add(columns)
        return profile


def _format(name: str) -> str:
    return "parquet" if name.lower().endswith((".parquet", ".pq")) else "csv"

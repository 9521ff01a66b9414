"""The three windows of a drift check, made from stored profiles: the newest file, the recent window
and everything since the champion was trained. No data is read twice:

* an accepted file's profile is made by the validation pass and stored beside its batch record
  (a file accepted before profiles existed is profiled once, on its first check);
* a capture segment (one file of a deployment's captured live inputs per hour, `CapturedInputs`)
  is profiled once per (segment, version), by the first check that sees that version, and stored
  (repositories/capture_profiles.py); the current hour's segment still grows, so a check reads
  it again only once its version changed;
* the since-champion window is a stored merged profile of every settled part (the files, and the
  segments whose hour ended SETTLE_MINUTES ago), extended with the parts that arrived since the
  last check (repositories/merged_profiles.py); only their profiles are read, so a check decodes
  a few profiles however many files the window holds. It is rebuilt from the parts' own profiles
  when it does not fit (another champion, a withdrawn file, a settled segment that changed).

The recent window takes the newest parts, files and segments alike, by time (a file's decision,
the end of a segment's hour): up to DRIFT_RECENT_ROWS rows, or the parts of the last
DRIFT_RECENT_HOURS. The newest-file window is the last accepted file.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from shared.domain.batches import BatchRef
from shared.domain.clock import iso
from shared.domain.drift.file_profiler import profile_seed
from shared.domain.drift.window import WindowAccumulator
from shared.domain.drift.window_profile import (
    merge_profiles, new_profile, profile_from_dict, profile_grids, profile_to_dict,
)
from shared.ports import CapturedInputs, CaptureSegment, FileStore, WindowReader
from shared.services.repositories import Repositories
from shared.services.repositories.capture_profiles import segment_id

log = logging.getLogger(__name__)

NEWEST_FILE, RECENT, SINCE_CHAMPION = "newest_file", "recent", "since_champion"
SETTLE_MINUTES = 15         # a segment this long past its hour is settled: its data collector wrote it out
_NEVER = datetime.min.replace(tzinfo=timezone.utc)


@dataclass
class Window:
    """A merged profile and what went into it."""

    profile: WindowAccumulator
    files: list[str] = field(default_factory=list)
    captured_rows: int = 0
    segments: int = 0


@dataclass(frozen=True)
class WindowRule:
    recent_rows: int = 5000
    recent_hours: float | None = None   # when set, the recent window is the parts of the last hours


@dataclass(frozen=True)
class Part:
    """One file version or capture segment version of the windows: what the merged profile records of it."""

    id: str
    at: datetime            # a file: when it was decided on; a segment: the end of its hour
    rows: int
    file: str | None        # the file's name (None: a capture segment)
    settled: bool = True    # a settled part does not change: it may join the stored merged profile

    def to_dict(self) -> dict:
        return {"id": self.id, "at": iso(self.at), "rows": self.rows, "file": self.file}

    @classmethod
    def from_dict(cls, doc: dict) -> "Part":
        return cls(doc["id"], _utc(doc["at"]), int(doc["rows"]), doc.get("file"))


@dataclass(frozen=True)
class _Stored:
    """The stored merged profile as read: the parts it covers, its ETag and its profile (not decoded yet)."""

    parts: dict[str, Part]
    etag: str | None
    profile: dict | None = None


class WindowProfiles:
    """Finds (or, once, makes) each part's profile and merges them into the three windows."""

    def __init__(self, repos: Repositories, files: FileStore, reader: WindowReader,
                 captures: CapturedInputs | None, contract, rule: WindowRule):
        self.repos = repos
        self.files = files
        self.reader = reader
        self.captures = captures
        self.grids = profile_grids(contract.columns)
        self.rule = rule

    def windows(self, champion: str, batches: list[BatchRef], segments: list[CaptureSegment],
                now: datetime) -> dict[str, Window]:
        """The three windows over `batches` (in acceptance order) and the capture `segments` (oldest first)."""
        sources = {f"file:{b.id}": b for b in batches}
        sources.update({_segment_part_id(s): s for s in segments})
        stored = self._stored(champion, set(sources))
        read: dict[str, WindowAccumulator] = {}  # the profiles read by this check, by part id
        parts = [stored.parts.get(pid) or self._read(pid, source, now, read) for pid, source in sources.items()]
        settled = self._settled(champion, stored, parts, sources, now, read)
        unsettled = [read[p.id] for p in parts if not p.settled]
        since = Window(merge_profiles([settled, *unsettled], self.grids) if unsettled else settled,
                       *_described(parts))

        def window(chosen: list[Part]) -> Window:
            for part in chosen:
                if part.id not in read:
                    self._read(part.id, sources[part.id], now, read)
            return Window(merge_profiles([read[p.id] for p in chosen], self.grids), *_described(chosen))

        newest_parts = [p for p in parts if p.file is not None][-1:]
        recent_parts = self._recent(parts, now)
        newest = window(newest_parts)
        recent = newest if [p.id for p in recent_parts] == [p.id for p in newest_parts] else window(recent_parts)
        return {NEWEST_FILE: newest, RECENT: recent, SINCE_CHAMPION: since}

    # --- the stored merged profile of the settled parts ---

    def _stored(self, champion: str, wanted: set[str]) -> _Stored:
        """The stored merged profile when it is this champion's and covers no part the windows lost;
        else an empty one (it is rebuilt) with the ETag to replace."""
        found = self.repos.merged_profiles.get()
        if found is None:
            return _Stored({}, None)
        doc, etag = found
        covered = {p["id"]: Part.from_dict(p) for p in doc.get("parts", [])}
        if doc.get("champion") != champion or not set(covered) <= wanted:
            return _Stored({}, etag)
        return _Stored(covered, etag, doc.get("profile"))

    def _settled(self, champion: str, stored: _Stored, parts: list[Part], sources: dict, now: datetime,
                 read: dict[str, WindowAccumulator]) -> WindowAccumulator:
        """The merged profile of every settled part: the stored one and the settled parts it lacks,
        stored again when parts joined it."""
        joining = [p for p in parts if p.id not in stored.parts and p.settled]
        try:
            base = [profile_from_dict(stored.profile)] if stored.parts else []
            merged = merge_profiles([*base, *(read[p.id] for p in joining)], self.grids)
        except (KeyError, TypeError, ValueError):  # unreadable, or on other grids (the contract changed)
            if not stored.parts:
                raise  # a part's own profile does not merge: nothing to rebuild from
            log.warning("the stored since-champion profile does not fit: rebuilt from the parts' profiles")
            for part in stored.parts.values():
                self._read(part.id, sources[part.id], now, read)
            return self._settled(champion, _Stored({}, stored.etag), parts, sources, now, read)
        if joining:
            covered = [*stored.parts.values(), *joining]
            doc = {"champion": champion, "parts": [p.to_dict() for p in covered], "profile": profile_to_dict(merged)}
            if not self.repos.merged_profiles.save(doc, stored.etag):
                log.info("another check stored the since-champion profile first; its document stands")
        return merged

    # --- each part's own profile ---

    def _read(self, pid: str, source, now: datetime, read: dict[str, WindowAccumulator]) -> Part:
        """The part of a file version or segment the merged profile does not cover, its profile kept in `read`."""
        if isinstance(source, BatchRef):
            record = self.repos.profiles.find(source.name, source.etag) or self._backfill(source)
            at = _utc(record["decided_at"]) if record.get("decided_at") else _NEVER
            part = Part(pid, at, int(record.get("rows", 0)), source.name)
        else:
            record = self.repos.capture_profiles.find(source) or self._profile_segment(source)
            end = _utc(source.hour) + timedelta(hours=1)
            part = Part(pid, end, int(record.get("rows", 0)), None,
                        settled=end + timedelta(minutes=SETTLE_MINUTES) <= now)
        read[pid] = profile_from_dict(record["profile"])
        return part

    def _backfill(self, batch: BatchRef) -> dict:
        log.info("profiling %s once (accepted before window profiles were stored)", batch.name)
        profile = new_profile(self.grids, seed=profile_seed(batch.name, batch.etag))
        chunks = self.files.read_chunks(*batch.stored_at)
        for columns in self.reader.columns(chunks, _format(batch.name), self.grids.names):
            profile.add(columns)
        record = self.repos.batches.find(batch.name, batch.etag)
        decided_at = record.decided_at if record else ""
        return self.repos.profiles.add(batch.name, batch.etag, decided_at, profile_to_dict(profile))

    def _profile_segment(self, segment: CaptureSegment) -> dict:
        profile = new_profile(self.grids, seed=profile_seed(segment_id(segment), segment.version))
        if self.captures is not None:
            for columns in self.reader.columns(self.captures.read(segment), "csv", self.grids.names):
                profile.add(columns)
        return self.repos.capture_profiles.put(segment, profile_to_dict(profile))

    # --- the recent window ---

    def _recent(self, parts: list[Part], now: datetime) -> list[Part]:
        """The newest parts (by time, files and segments alike) up to the rule's rows or hours, oldest first."""
        ordered = sorted(parts, key=lambda p: p.at)
        if self.rule.recent_hours is not None:
            since = now - timedelta(hours=self.rule.recent_hours)
            return [p for p in ordered if p.at >= since]
        chosen: list[Part] = []
        rows = 0
        for part in reversed(ordered):
            if rows >= self.rule.recent_rows:
                break
            chosen.insert(0, part)
            rows += part.rows
        return chosen


def _described(parts: list[Part]) -> tuple[list[str], int, int]:
    """(file names, captured rows, segments) of the parts."""
    segments = [p for p in parts if p.file is None]
    return [p.file for p in parts if p.file is not None], sum(p.rows for p in segments), len(segments)


def _segment_part_id(segment: CaptureSegment) -> str:
    version = hashlib.sha256(segment.version.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"segment:{segment_id(segment)}:{version}"


def _utc(text: str) -> datetime:
    """An ISO-8601 time as an aware UTC datetime (a time without an offset is taken as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _format(name: str) -> str:
    return "parquet" if name.lower().endswith((".parquet", ".pq")) else "csv"

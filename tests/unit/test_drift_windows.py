"""The drift windows from stored profiles: capture segments profiled once per version, the stored
since-champion profile extended with new parts only (and rebuilt when it does not fit), the recent
window taking segments by hour like files, storage keys never made of platform strings."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shared.domain.contract import DIABETES_CONTRACT
from shared.domain.drift.window_profile import new_profile, profile_from_dict, profile_grids, profile_to_dict
from shared.ports import CaptureSegment, DocumentChanged
from shared.services.repositories.capture_profiles import CaptureProfileRepository
from shared.services.repositories.merged_profiles import MergedProfileRepository
from tests.fakes import FakeDocumentStore
from tests.unit.test_monitoring import World, rows

DATA = Path(__file__).resolve().parents[2] / "data"
PROD = DATA / "diabetes-prod.csv"


class Reads:
    """The document keys a check reads (the store's get, recorded)."""

    def __init__(self, world):
        self.keys: list[str] = []
        get = world.documents.get

        def recorded(key):
            self.keys.append(key)
            return get(key)

        world.documents.get = recorded

    def under(self, prefix: str) -> list[str]:
        return [k for k in self.keys if k.startswith(prefix)]


@pytest.fixture
def world():
    world = World(DRIFT_RECENT_ROWS="1000")
    world.champion()
    return world


def test_a_new_file_is_the_only_profile_the_next_check_reads(world):
    for i in range(4):
        world.accept(f"prod/part-{i}.csv", rows(PROD, i * 1000, 1000))
    first = world.drift.check_drift()
    world.accept("prod/part-4.csv", rows(PROD, 4000, 1000))
    reads = Reads(world)

    second = world.drift.check_drift()

    assert first["windows"]["since_champion"]["rows"] == 4000
    assert second["windows"]["since_champion"]["rows"] == 5000 and second["windows"]["since_champion"]["files"] == 5
    assert len(reads.under("monitoring/profiles/")) == 1      # the new file's, read once for all three windows
    assert len(reads.under("monitoring/merged-profiles/")) == 1
    stored = world.repos.merged_profiles.get()[0]
    assert [p["file"] for p in stored["parts"]] == [f"prod/part-{i}.csv" for i in range(5)]


def test_the_stored_profile_gives_the_windows_a_rebuild_gives(world):
    for i in range(3):
        world.accept(f"prod/part-{i}.csv", rows(PROD, i * 1500, 1500, shifted=i == 2))
    world.drift.check_drift()
    world.accept("prod/part-3.csv", rows(PROD, 4500, 1500))
    extended = world.drift.check_drift()
    world.documents.docs.pop(MergedProfileRepository.KEY)
    rebuilt = world.drift.check_drift()

    for name in ("newest_file", "recent", "since_champion"):
        assert extended["windows"][name] == rebuilt["windows"][name]
    assert extended["result"]["features"] == rebuilt["result"]["features"]


def test_a_withdrawn_file_or_another_champion_rebuilds_the_stored_profile(world):
    world.accept("prod/a.csv", rows(PROD, 0, 1500, shifted=True))
    world.accept("prod/b.csv", rows(PROD, 1500, 1500))
    assert world.drift.check_drift()["windows"]["since_champion"]["verdict"] == "drift"
    world.repos.accepted.withdraw("prod/a.csv", "2026-11-22T12:30:00+00:00", "test")

    after = world.drift.check_drift()

    assert after["windows"]["since_champion"] == {**after["windows"]["since_champion"], "rows": 1500, "files": 1,
                                                  "verdict": "no_drift"}
    world.champion("2")
    assert world.drift.check_drift()["champion_version"] == "2"
    assert world.repos.merged_profiles.get()[0]["champion"] == "2"


def test_a_capture_segment_is_profiled_once_per_version(world):
    world.captures.add("d-v1", rows(PROD, 0, 1200), hour="2026-11-22T10:00:00Z")
    world.captures.add("d-v1", rows(PROD, 1200, 800), hour="2026-11-22T11:00:00Z")
    first = world.drift.check_drift()
    second = world.drift.check_drift()
    assert sorted(world.captures.reads) == sorted(["diabetes-endpoint/d-v1/2026-11-22T10:00:00Z",
                                                   "diabetes-endpoint/d-v1/2026-11-22T11:00:00Z"])
    assert first["windows"]["since_champion"]["rows"] == second["windows"]["since_champion"]["rows"] == 2000

    world.captures.add("d-v1", rows(PROD, 2000, 500), hour="2026-11-22T11:00:00Z")  # the hour's file grew
    third = world.drift.check_drift()

    assert world.captures.reads[2:] == ["diabetes-endpoint/d-v1/2026-11-22T11:00:00Z"]
    assert third["windows"]["since_champion"]["rows"] == 2500 and third["captured_rows"] == 1300


def test_only_settled_segments_join_the_stored_profile(world):
    world.captures.add("d-v1", rows(PROD, 0, 1200), hour="2026-11-22T10:00:00Z")   # ended 12:00 - 1h
    world.captures.add("d-v1", rows(PROD, 1200, 800), hour="2026-11-22T11:00:00Z")  # ends now: still written
    world.drift.check_drift()
    stored = world.repos.merged_profiles.get()[0]
    assert [p["rows"] for p in stored["parts"]] == [1200] and stored["profile"]["rows"] == 1200
    world.clock.advance(minutes=20)

    world.drift.check_drift()

    stored = world.repos.merged_profiles.get()[0]
    assert [p["rows"] for p in stored["parts"]] == [1200, 800] and stored["profile"]["rows"] == 2000


def test_the_recent_window_takes_segments_by_hour_like_files():
    world = World(DRIFT_RECENT_HOURS="2")
    world.champion()
    world.captures.add("d-v1", rows(PROD, 0, 1500, shifted=True), hour="2026-11-22T06:00:00Z")
    world.accept("prod/normal.csv", rows(PROD, 1500, 1500))
    world.captures.add("d-v1", rows(PROD, 3000, 700), hour="2026-11-22T11:00:00Z")

    record = world.drift.check_drift()

    assert record["files"] == ["prod/normal.csv"] and record["captured_rows"] == 700
    assert record["captured_segments"] == 1 and record["rows"] == 2200 and record["verdict"] == "no_drift"
    assert record["windows"]["since_champion"]["rows"] == 3700
    assert record["windows"]["since_champion"]["verdict"] == "drift"


def test_the_recent_rows_count_segments_and_files_newest_first(world):
    world.accept("prod/old.csv", rows(PROD, 0, 1500, shifted=True))            # decided at 12:00:xx
    world.captures.add("d-v1", rows(PROD, 1500, 1200), hour="2026-11-22T12:00:00Z")  # ends 13:00

    record = world.drift.check_drift()

    assert record["files"] == [] and record["captured_rows"] == 1200 and record["verdict"] == "no_drift"


def test_capture_profile_keys_are_hashes_never_the_platforms_names():
    store = FakeDocumentStore()
    repo = CaptureProfileRepository(store)
    hostile = CaptureSegment("diabetes-endpoint", "d-v1", "../../monitoring/merged-profiles/since-champion\n?",
                             '"0x8D"', "2026-11-22T11:00:00Z", 10)
    profile = profile_to_dict(new_profile(profile_grids(DIABETES_CONTRACT.columns)))

    repo.put(hostile, profile)

    assert all(re.fullmatch(r"monitoring/capture-profiles/[0-9a-f]{32}", key) for key in store.docs)
    assert repo.find(hostile)["segment"] == hostile.key
    newer = CaptureSegment(**{**hostile.__dict__, "version": '"0x9E"'})
    assert repo.find(newer) is None
    repo.put(newer, profile)
    assert len(store.docs) == 1 and repo.find(newer)["version"] == '"0x9E"' and repo.find(hostile) is None


def test_a_check_that_loses_the_race_to_store_the_merged_profile_still_answers(world):
    world.accept("prod/a.csv", rows(PROD, 0, 1500))
    world.drift.check_drift()
    world.accept("prod/b.csv", rows(PROD, 1500, 1500, shifted=True))
    replace = world.documents.replace

    def someone_else_wrote_first(key, doc, etag):
        if key == MergedProfileRepository.KEY:
            raise DocumentChanged(key)
        return replace(key, doc, etag)

    world.documents.replace = someone_else_wrote_first
    record = world.drift.check_drift()

    assert record["windows"]["since_champion"]["rows"] == 3000 and record["verdict"] == "drift"
    assert len(world.repos.merged_profiles.get()[0]["parts"]) == 1   # the other document stands


def test_the_merged_profile_counts_every_row_of_its_parts(world):
    for i in range(3):
        world.accept(f"prod/part-{i}.csv", rows(PROD, i * 1000, 1000))
    world.captures.add("d-v1", rows(PROD, 3000, 1000), hour="2026-11-22T09:00:00Z")
    world.drift.check_drift()
    merged = profile_from_dict(world.repos.merged_profiles.get()[0]["profile"])
    frame = pd.read_csv(PROD).iloc[:4000]
    assert merged.rows == 4000
    for name in ("Pregnancies", "Age", "SerumInsulin"):
        grid = merged.baseline.features[name]
        index = (frame[name].to_numpy() - int(grid.start + 0.5) + 1)
        assert np.array_equal(merged.tally(name).counts, np.bincount(index, minlength=grid.cells + 2))


def test_an_unreadable_stored_profile_is_rebuilt_from_the_parts(world):
    world.accept("prod/a.csv", rows(PROD, 0, 1500, shifted=True))
    first = world.drift.check_drift()
    doc, etag = world.repos.merged_profiles.get()
    world.documents.replace(MergedProfileRepository.KEY, {**doc, "profile": {**doc["profile"], "format": 99}}, etag)
    world.accept("prod/b.csv", rows(PROD, 1500, 1500))

    second = world.drift.check_drift()

    assert first["windows"]["since_champion"]["verdict"] == "drift"
    assert second["windows"]["since_champion"]["rows"] == 3000
    assert world.repos.merged_profiles.get()[0]["profile"]["format"] == 1

"""Monitoring on fakes: drift checks on the champion's baseline, performance tracking, retraining policy."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from shared.domain.batches import ACCEPTED, DataBatch
from shared.domain.candidates import PROMOTED, Candidate
from shared.domain.clock import iso
from shared.domain.models import ModelRegistered
from shared.domain.training import COMPLETED, TrainingJob
from tests.builders import FakeWorld
from tests.fakes import FakeDeliveryPlatform

DATA = Path(__file__).resolve().parents[2] / "data"
MODEL = "diabetes-classifier"


def rows(path: Path, start: int, count: int, shifted: bool = False) -> bytes:
    with open(path, newline="") as handle:
        selected = [r for i, r in enumerate(csv.DictReader(handle)) if start <= i < start + count]
    if shifted:
        for r in selected:
            r.update(Pregnancies=str(int(r["Pregnancies"]) + 1), Age=str(round(int(r["Age"]) * 1.2)),
                     BMI=str(float(r["BMI"]) * 1.1))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(selected[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(selected)
    return out.getvalue().encode()


class CsvColumns:
    """The WindowReader port on the csv module (the real adapter streams with pandas/pyarrow)."""

    def columns(self, chunks, file_format, names=None):
        text = b"".join(chunks).decode()
        reader = list(csv.DictReader(io.StringIO(text)))
        if reader:
            yield {name: [float(r[name]) for r in reader] for name in reader[0]}


class Platform(FakeDeliveryPlatform):
    def __init__(self):
        super().__init__()
        import pandas as pd

        from training.baseline_profile import build_profile

        frame = pd.read_csv(DATA / "diabetes-dev.csv").drop(columns=["PatientID", "Diabetic"])
        self.profile = build_profile(frame)
        self.batch_metrics = {"auc": 0.98, "accuracy": 0.95, "f1": 0.9, "precision": 0.9, "recall": 0.9, "rows": 1}

    def get_baseline_profile(self, model_name, version):
        return self.profile

    def score_data(self, model_name, version, csv_chunks):
        b"".join(csv_chunks)
        return dict(self.batch_metrics)


class World(FakeWorld):
    def __init__(self, triggers=("drift", "performance"), **env):
        super().__init__(platform=Platform(), reader=CsvColumns(), RETRAIN_TRIGGERS=",".join(triggers), **env)

    def champion(self, version="1"):
        def crown(production):
            production.champion_version, production.champion_deployment = version, f"d-v{version}"

        self.repos.production.change(crown)
        self.repos.candidates.add(Candidate(MODEL, version, PROMOTED, iso(self.clock()),
                                            gate={"candidate": {"auc": 0.98, "accuracy": 0.95}}))

    def accept(self, name: str, data: bytes) -> DataBatch:
        etag = self.files.upload("data", name, data)
        at = f"2026-11-22T12:00:{len(self.documents.docs):02d}+00:00"
        batch = DataBatch("data", name, etag, len(data), ACCEPTED, received_at=at, decided_at=at, sha256="s")
        self.repos.batches.add(batch)
        self.training.add_accepted(batch.ref)  # as ingestion does on acceptance
        return batch


@pytest.fixture
def world():
    return World()


def test_without_a_champion_there_is_nothing_to_compare(world):
    record = world.drift.check_drift()
    assert record["verdict"] == "no_champion"
    assert world.drift.latest()["latest"]["id"] == record["id"]


def test_unshifted_data_is_no_drift_and_triggers_nothing(world):
    world.champion()
    world.accept("prod/a.csv", rows(DATA / "diabetes-prod.csv", 0, 2000))

    record = world.drift.check_drift("manual")

    assert record["verdict"] == "no_drift", record["result"]["reason"]
    assert record["rows"] == 2000 and record["files"] == ["prod/a.csv"]
    assert world.training.pending_request() is None
    assert b"<svg" in world.drift.report(record["id"])
    assert world.notifier.sent == []


def test_shifted_data_drifts_and_asks_for_retraining_once_per_cooldown(world):
    world.champion()
    world.accept("prod/shifted.csv", rows(DATA / "diabetes-prod.csv", 0, 2000, shifted=True))

    first = world.drift.check_drift()
    second = world.drift.check_drift()

    assert first["verdict"] == "drift"
    assert {"Age", "BMI"} <= set(first["drifted_features"])
    assert first["retraining"]["retrain"] is True
    assert "data drift" in world.training.pending_request()["reasons"][0]
    assert second["retraining"] == {"retrain": False, "detail": second["retraining"]["detail"]}
    assert second["retraining"]["detail"].startswith("cooldown")
    assert world.notifier.sent[0].kind == "drift.drift" and "Report" in world.notifier.sent[0].links

    world.clock.advance(hours=7)
    assert world.drift.check_drift()["retraining"]["retrain"] is True


def test_the_daily_cap_holds(world):
    world = World(RETRAIN_COOLDOWN_HOURS="0", RETRAIN_DAILY_CAP="2")
    world.champion()
    world.accept("prod/shifted.csv", rows(DATA / "diabetes-prod.csv", 0, 2000, shifted=True))
    decisions = [world.drift.check_drift()["retraining"]["retrain"] for _ in range(3)]
    assert decisions == [True, True, False]


def test_small_windows_are_insufficient_until_pooled(world):
    world.champion()
    world.accept("prod/a.csv", rows(DATA / "diabetes-prod.csv", 0, 400))
    assert world.drift.check_drift()["verdict"] == "insufficient_data"
    world.accept("prod/b.csv", rows(DATA / "diabetes-prod.csv", 400, 800))
    assert world.drift.check_drift()["verdict"] == "no_drift"


def test_drift_without_the_trigger_is_reported_not_acted_on():
    world = World(triggers=("new_data",))
    world.champion()
    world.accept("prod/shifted.csv", rows(DATA / "diabetes-prod.csv", 0, 2000, shifted=True))
    record = world.drift.check_drift()
    assert record["verdict"] == "drift" and record["retraining"]["retrain"] is False
    assert world.training.pending_request() is None


def test_the_champion_scores_each_new_batch_and_a_drop_triggers_retraining(world):
    world.champion()
    fine = world.accept("prod/fine.csv", rows(DATA / "diabetes-prod.csv", 0, 500))
    assert world.performance.track_performance(fine)["dropped"] is False
    assert world.training.pending_request() is None

    world.platform.batch_metrics["auc"] = 0.80
    worse = world.accept("prod/worse.csv", rows(DATA / "diabetes-prod.csv", 500, 500))
    record = world.performance.track_performance(worse)

    assert record["dropped"] is True and record["drop"] == pytest.approx(0.18)
    assert "performance drop" in world.training.pending_request()["reasons"][0]
    history = world.performance.history()
    assert [h["file"] for h in history] == ["prod/worse.csv", "prod/fine.csv"]
    assert world.performance.track_performance(worse) == record, "idempotent per batch"


def test_data_the_champion_trained_on_is_not_in_the_window(world):
    world.champion()
    trained = world.accept("prod/trained.csv", rows(DATA / "diabetes-prod.csv", 0, 2000, shifted=True))
    world.repos.model_events.add(ModelRegistered(MODEL, "1", "eventgrid", "d-1", tags={"job_name": "train-1"}),
                                 iso(world.clock()))
    world.repos.jobs.add(TrainingJob("train-1", MODEL, COMPLETED, [trained.ref.to_dict()], "ts", iso(world.clock())))
    assert world.drift.check_drift()["verdict"] == "insufficient_data"


def test_inputs_captured_at_the_endpoint_join_the_window(world):
    world.champion()
    world.captures.add("d-v1", rows(DATA / "diabetes-prod.csv", 0, 1500, shifted=True))

    record = world.drift.check_drift()

    assert record["files"] == [] and record["captured_rows"] == 1500
    assert record["verdict"] == "drift"


def test_a_shift_in_the_newest_file_after_an_unshifted_batch_is_drift_in_every_window(world):
    world.champion()
    world.accept("prod/normal.csv", rows(DATA / "diabetes-prod.csv", 0, 1500))
    assert world.drift.check_drift()["verdict"] == "no_drift"
    world.accept("prod/shifted.csv", rows(DATA / "diabetes-prod.csv", 1500, 1500, shifted=True))

    record = world.drift.check_drift()

    assert record["verdict"] == "drift" and record["files"] == ["prod/normal.csv", "prod/shifted.csv"]
    assert {name: w["verdict"] for name, w in record["windows"].items()} == {
        "newest_file": "drift", "recent": "drift", "since_champion": "drift"}
    assert record["windows"]["newest_file"]["rows"] == 1500
    assert world.repos.profiles.find("prod/shifted.csv", world.files.info("data", "prod/shifted.csv").etag)


def test_the_recent_window_holds_the_newest_files_up_to_its_rows():
    world = World(DRIFT_RECENT_ROWS="1000")
    world.champion()
    world.accept("prod/shifted-old.csv", rows(DATA / "diabetes-prod.csv", 0, 1500, shifted=True))
    world.accept("prod/normal.csv", rows(DATA / "diabetes-prod.csv", 1500, 1500))
    record = world.drift.check_drift()
    assert record["files"] == ["prod/normal.csv"] and record["verdict"] == "no_drift"
    assert record["windows"]["since_champion"]["verdict"] == "drift"


def test_retraining_waits_for_m_of_n_drifting_checks():
    world = World(DRIFT_CONFIRMATIONS="2/3")
    world.champion()
    world.accept("prod/shifted.csv", rows(DATA / "diabetes-prod.csv", 0, 2000, shifted=True))
    first = world.drift.check_drift()
    assert first["verdict"] == "drift" and first["retraining"]["retrain"] is False
    assert "2 of 3" in first["retraining"]["detail"]
    world.clock.advance(hours=1)
    assert world.drift.check_drift()["retraining"]["retrain"] is True

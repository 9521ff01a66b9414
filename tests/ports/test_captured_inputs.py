"""CapturedInputs, one suite on both sides: the local router's hourly CSV files (written by the
router's own writer, `emulators.local_ml.input_capture`) and Azure ML's data collector output
(JSONL shaped as Microsoft documents it, docs/platform-facts.md#data-collection) in a real
Azurite, read by `shared.adapters.azure_ml.data_collector`."""
from __future__ import annotations

import csv
import io
import json
import logging
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared.bootstrap import model_inputs
from shared.domain.contract import DIABETES_CONTRACT
from shared.domain.errors import InvalidInput
from shared.ports import CaptureSegment
from shared.services.monitoring.captures import captured_csv

SIDES = ["local", pytest.param("azurite", marks=pytest.mark.integration)]
COLUMNS = model_inputs(DIABETES_CONTRACT)
ENDPOINT, DEPLOYMENT = "diabetes-endpoint", "d-v7"
NOW = datetime(2026, 12, 2, 12, 30, tzinfo=timezone.utc)
DATA = Path(__file__).resolve().parents[2] / "data" / "diabetes-prod.csv"


def records(start: int, count: int, extra: bool = False) -> list[dict]:
    """Rows of the real data as a client sends them (values as numbers); `extra`: with the
    identifier and the label too, and the columns in another order."""
    with open(DATA, newline="") as handle:
        chosen = [r for i, r in enumerate(csv.DictReader(handle)) if start <= i < start + count]
    out = []
    for row in chosen:
        values = {name: (float(row[name]) if "." in row[name] else int(row[name])) for name in COLUMNS}
        out.append({"PatientID": int(row["PatientID"]), **dict(reversed(values.items())), "Diabetic": 1}
                   if extra else values)
    return out


def expected_csv(rows: list[dict]) -> list[list[str]]:
    return [[str(r[name]) for name in COLUMNS] for r in rows]


def parsed(chunks) -> list[list[str]]:
    table = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert table and table[0] == COLUMNS, "the header: the model's input columns"
    return table[1:]


class LocalSide:
    """The router's captures folder; rows captured by the router's writer."""

    def __init__(self, tmp_path: Path, chunk_size: int):
        from shared.adapters.local_ml.captures import LocalCapturedInputs

        self.state_dir = tmp_path / "endpoints"
        self.adapter = LocalCapturedInputs(self.state_dir, COLUMNS, chunk_size=chunk_size)

    def capture(self, at: datetime, rows: list[dict], deployment: str = DEPLOYMENT) -> None:
        self.capture_requests(at, [rows], deployment)

    def capture_requests(self, at: datetime, requests: list[list[dict]], deployment: str = DEPLOYMENT) -> None:
        from emulators.local_ml.input_capture import append_capture

        for rows in requests:
            columns = list(rows[0])
            assert append_capture(self.state_dir, ENDPOINT, deployment, at, columns,
                                  [[r[c] for c in columns] for r in rows])

    def remove(self, segment: CaptureSegment) -> None:
        (self.state_dir / ENDPOINT / "captures" / segment.deployment / segment.key).unlink()


class AzureSide:
    """A container shaped like the workspace blob store; rows captured as the data collector writes
    them: one envelope line per (batch of) request(s), appended to the hour's file."""

    def __init__(self, connection: str, chunk_size: int):
        from shared.adapters.azure_ml.data_collector import DataCollectorInputs
        from shared.adapters.blob_storage import blob_service

        self.service = blob_service(connection)
        self.container = f"azureml-blobstore-{uuid.uuid4()}"
        self.service.create_container(self.container)
        self.adapter = DataCollectorInputs(self.service, self.container, "model_inputs", COLUMNS,
                                           clock=lambda: NOW, chunk_size=chunk_size)
        self.instance = uuid.uuid4()

    def blob_name(self, at: datetime, deployment: str = DEPLOYMENT) -> str:
        return f"modelDataCollector/{ENDPOINT}/{deployment}/model_inputs/{at:%Y/%m/%d/%H}/{self.instance}.jsonl"

    def capture(self, at: datetime, rows: list[dict], deployment: str = DEPLOYMENT) -> None:
        self.capture_requests(at, [rows], deployment)

    def capture_requests(self, at: datetime, requests: list[list[dict]], deployment: str = DEPLOYMENT) -> None:
        self.append(self.blob_name(at, deployment), "".join(envelope(rows, at, deployment) + "\n" for rows in requests))

    def append(self, name: str, text: str) -> None:
        blob = self.service.get_blob_client(self.container, name)
        current = blob.download_blob().readall() if blob.exists() else b""
        blob.upload_blob(current + text.encode(), overwrite=True)

    def remove(self, segment: CaptureSegment) -> None:
        self.service.get_blob_client(self.container, segment.key).delete_blob()


def envelope(rows, at: datetime, deployment: str = DEPLOYMENT, **fields) -> str:
    """One line as Microsoft Learn shows the collected data ("Store collected data in blob storage",
    "Data collector batching"): the rows in `data`, metadata beside them."""
    data = json.dumps(rows, separators=(",", ":"))
    return json.dumps({
        "specversion": "1.0", "id": str(uuid.uuid4()),
        "source": f"/subscriptions/{uuid.UUID(int=7)}/resourceGroups/rg-retrain/providers/"
                  f"Microsoft.MachineLearningServices/workspaces/mlw-retrain/onlineEndpoints/{ENDPOINT}/"
                  f"deployments/{deployment}",
        "type": "azureml.inference.model_inputs", "datacontenttype": "application/json",
        "time": f"{at:%Y-%m-%dT%H:%M:%SZ}", "data": rows,
        "contentrange": f"bytes 0-{len(data) - 1}/{len(data)}",
        "correlationid": str(uuid.uuid4()), "xrequestid": str(uuid.uuid4()), "modelversion": "default",
        "collectdatatype": "pandas.core.frame.DataFrame", "agent": "azureml-ai-monitoring/0.1.0b4", **fields,
    }, separators=(",", ":"))


@pytest.fixture(params=SIDES)
def side(request, tmp_path):
    chunk_size = getattr(request, "param_chunk_size", 64 * 1024)
    if request.param == "local":
        return LocalSide(tmp_path, chunk_size)
    return AzureSide(request.getfixturevalue("azurite"), chunk_size)


def hour(n: int) -> datetime:
    return datetime(2026, 12, 2, 0, tzinfo=timezone.utc) + timedelta(hours=n, minutes=17)


# ------------------------------------------------------------------------------ both sides


def test_segments_come_oldest_hour_first_and_since_leaves_earlier_hours_out(side):
    for n in (5, 1, 3):
        side.capture(hour(n), records(10 * n, 10))
    side.capture(hour(3), records(500, 5), deployment="d-v8")

    segments = side.adapter.segments(ENDPOINT, DEPLOYMENT)
    assert [s.hour for s in segments] == ["2026-12-02T01:00:00Z", "2026-12-02T03:00:00Z", "2026-12-02T05:00:00Z"]
    assert all((s.endpoint, s.deployment) == (ENDPOINT, DEPLOYMENT) and s.version and s.size > 0 for s in segments)
    since = [s.hour for s in side.adapter.segments(ENDPOINT, DEPLOYMENT, since="2026-12-02T03:59:00Z")]
    assert since == ["2026-12-02T03:00:00Z", "2026-12-02T05:00:00Z"], "the hour `since` falls in is kept"
    assert side.adapter.segments(ENDPOINT, DEPLOYMENT, since="2026-12-02T06:00:00+00:00") == []
    assert side.adapter.segments(ENDPOINT, "d-v9") == []
    assert [s.hour for s in side.adapter.segments(ENDPOINT, "d-v8")] == ["2026-12-02T03:00:00Z"]


def test_a_read_gives_the_models_input_columns_whatever_else_was_sent(side):
    side.capture(hour(2), records(0, 3, extra=True))
    side.capture(hour(2), records(3, 4, extra=True))

    [segment] = side.adapter.segments(ENDPOINT, DEPLOYMENT)

    assert parsed(side.adapter.read(segment)) == expected_csv(records(0, 7))


def test_a_growing_hour_gets_a_new_version_and_a_read_covers_the_version_listed(side):
    side.capture(hour(4), records(0, 5))
    [first] = side.adapter.segments(ENDPOINT, DEPLOYMENT)
    side.capture(hour(4), records(5, 5))
    [grown] = side.adapter.segments(ENDPOINT, DEPLOYMENT)

    assert grown.key == first.key and grown.version != first.version and grown.size > first.size
    assert parsed(side.adapter.read(first)) == expected_csv(records(0, 5))
    assert parsed(side.adapter.read(grown)) == expected_csv(records(0, 10))


def test_a_large_segment_is_streamed_in_bounded_chunks_lines_split_across_them_intact(side):
    many = records(0, 10_000) * 3
    side.capture_requests(hour(6), [many[start:start + 250] for start in range(0, len(many), 250)])  # 120 requests
    [segment] = side.adapter.segments(ENDPOINT, DEPLOYMENT)

    chunks = list(side.adapter.read(segment))

    assert segment.size > (4 if isinstance(side, AzureSide) else 1) * 1024 * 1024  # JSONL: 4.9 MB, CSV: 1.1 MB
    assert len(chunks) > 5 and max(len(c) for c in chunks) <= 64 * 1024 + 64 * 1024
    assert parsed(chunks) == expected_csv(many)


def test_a_segment_gone_reads_as_nothing(side):
    side.capture(hour(7), records(0, 3))
    [segment] = side.adapter.segments(ENDPOINT, DEPLOYMENT)
    side.remove(segment)
    assert list(side.adapter.read(segment)) == []
    assert side.adapter.segments(ENDPOINT, DEPLOYMENT) == []


@pytest.mark.parametrize("endpoint, deployment", [("../etc", DEPLOYMENT), (ENDPOINT, "d/../x"), (ENDPOINT, "a" * 40)])
def test_hostile_names_never_become_paths(side, endpoint, deployment):
    with pytest.raises(InvalidInput):
        side.adapter.segments(endpoint, deployment)
    with pytest.raises(InvalidInput):
        list(side.adapter.read(CaptureSegment(endpoint, deployment, "2026-12-02T01.csv", "v", "2026-12-02T01:00:00Z")))


def test_a_key_that_is_not_one_of_the_segments_is_refused(side):
    side.capture(hour(1), records(0, 3))
    [segment] = side.adapter.segments(ENDPOINT, DEPLOYMENT)
    for key in ("../../../endpoint.json", segment.key + "/../../d-v8/x", "/etc/passwd", segment.key.replace("01", "1")):
        with pytest.raises(InvalidInput):
            list(side.adapter.read(CaptureSegment(ENDPOINT, DEPLOYMENT, key, segment.version, segment.hour)))


def test_the_segments_as_one_csv_stream_oldest_or_newest_hour_first(side):
    side.capture(hour(1), records(0, 4))
    side.capture(hour(2), records(4, 4))

    oldest = parsed(captured_csv(side.adapter, ENDPOINT, DEPLOYMENT))
    newest = parsed(captured_csv(side.adapter, ENDPOINT, DEPLOYMENT, newest_first=True))
    recent = parsed(captured_csv(side.adapter, ENDPOINT, DEPLOYMENT, since="2026-12-02T02:00:00Z"))

    assert oldest == expected_csv(records(0, 8))
    assert newest == expected_csv(records(4, 4) + records(0, 4))
    assert recent == expected_csv(records(4, 4))
    assert list(captured_csv(side.adapter, ENDPOINT, "d-v9")) == []


# ------------------------------------------------------------------------- the data collector


@pytest.fixture
def collector(azurite):
    return AzureSide(azurite, 4 * 1024)


@pytest.mark.integration
def test_documented_lines_batched_malformed_and_out_of_line_ones(collector, caplog):
    at, name = hour(8), collector.blob_name(hour(8))
    lines = [
        envelope(records(0, 2) + records(2, 1, extra=True), at),  # two requests batched into one line
        '{"specversion":"1.0","data":[{"Pregnan',  # cut short: malformed
        envelope("https://ws.blob.core.windows.net/modeldata/mdc/ba99.../ba99", at, datacontenttype="text/plain",
                 datainblob="true"),  # a payload over 4 MB, kept in a file of its own
        envelope([{"label": "DRUG", "pattern": "aspirin"}], at),  # not the model's inputs
        envelope({name: [r[name] for r in records(3, 2)] for name in COLUMNS}, at),  # columns of lists
        "",
        envelope(records(5, 1), at),  # the last line, without a line break
    ]
    collector.append(name, "\n".join(lines))
    collector.append(f"modelDataCollector/{ENDPOINT}/{DEPLOYMENT}/model_inputs/readme.txt", "not a capture\n")
    collector.append(f"modelDataCollector/{ENDPOINT}/{DEPLOYMENT}/model_outputs/{at:%Y/%m/%d/%H}/x.jsonl", "[]\n")

    [segment] = collector.adapter.segments(ENDPOINT, DEPLOYMENT)
    with caplog.at_level(logging.WARNING, logger="shared.adapters.azure_ml.data_collector"):
        rows = parsed(collector.adapter.read(segment))

    assert rows == expected_csv(records(0, 6))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "3 line(s)" in warnings[0].getMessage()


@pytest.mark.integration
def test_reads_download_bounded_ranges_and_a_line_longer_than_a_range_is_joined(collector):
    long_line = envelope(records(0, 400), hour(9))  # about 60 KB: fifteen 4 KiB ranges
    collector.append(collector.blob_name(hour(9)), long_line + "\n" + envelope(records(400, 3), hour(9)) + "\n")
    [segment] = collector.adapter.segments(ENDPOINT, DEPLOYMENT)
    lengths = []
    real = collector.adapter._container.get_blob_client

    def spying(name):
        blob = real(name)
        download = blob.download_blob

        def ranged(**kwargs):
            lengths.append(kwargs.get("length"))
            return download(**kwargs)
        blob.download_blob = ranged
        return blob

    collector.adapter._container.get_blob_client = spying
    rows = parsed(collector.adapter.read(segment))

    assert rows == expected_csv(records(0, 403))
    assert len(lengths) == -(-segment.size // 4096) and max(lengths) <= 4096


@pytest.mark.integration
def test_since_lists_by_day_then_by_month_and_year(collector):
    from shared.adapters.azure_ml.data_collector import _prefixes

    base = "modelDataCollector/e/d/model_inputs/"
    now = datetime(2027, 2, 10, 23, tzinfo=timezone.utc)
    short = _prefixes(base, datetime(2027, 2, 9, 5, tzinfo=timezone.utc), now)
    assert short == [f"{base}2027/02/09/", f"{base}2027/02/10/", f"{base}2027/02/11/"]
    long = _prefixes(base, datetime(2026, 11, 20, 5, tzinfo=timezone.utc), now)
    assert long == [f"{base}2026/11/", f"{base}2026/12/", f"{base}2027/"]
    for n, at in enumerate([datetime(2026, 11, 19, 23), datetime(2026, 11, 20, 5), datetime(2027, 1, 3, 4)]):
        collector.capture(at.replace(tzinfo=timezone.utc), records(n, 1))
    collector.adapter.clock = lambda: now
    found = collector.adapter.segments(ENDPOINT, DEPLOYMENT, since="2026-11-20T05:10:00Z")
    assert [s.hour for s in found] == ["2026-11-20T05:00:00Z", "2027-01-03T04:00:00Z"]


def test_a_collection_or_container_that_is_not_a_name_is_refused():
    from azure.storage.blob import BlobServiceClient

    from shared.adapters.azure_ml.data_collector import DataCollectorInputs

    service = BlobServiceClient("https://example.blob.core.windows.net")
    with pytest.raises(InvalidInput, match="collection"):
        DataCollectorInputs(service, "azureml-blobstore-1", "../model_inputs", COLUMNS)
    with pytest.raises(InvalidInput, match="azureml-blobstore-<workspace id>"):
        DataCollectorInputs(service, "", "model_inputs", COLUMNS)


# ------------------------------------------------------------------------- the local router


def test_the_routers_capture_writes_the_hours_file_in_its_first_requests_columns(tmp_path):
    from emulators.local_ml.input_capture import InputCapture, append_capture
    from shared.adapters.local_ml.captures import LocalCapturedInputs

    capture = InputCapture(tmp_path)
    first, second = records(0, 2), records(2, 2, extra=True)  # the second: other order, the identifier and label too
    for rows in (first, second):
        columns = list(rows[0])
        capture.record(ENDPOINT, DEPLOYMENT, json.dumps(
            {"dataframe_split": {"columns": columns, "data": [[r[c] for c in columns] for r in rows]}}).encode())
    capture.close()

    adapter = LocalCapturedInputs(tmp_path, COLUMNS)
    [segment] = adapter.segments(ENDPOINT, DEPLOYMENT)
    assert parsed(adapter.read(segment)) == expected_csv(first + records(2, 2))
    assert (tmp_path / ENDPOINT / "captures" / DEPLOYMENT / segment.key).read_text().splitlines()[0] == ",".join(COLUMNS)
    same_hour = datetime.fromisoformat(segment.hour) + timedelta(minutes=1)
    assert not append_capture(tmp_path, ENDPOINT, DEPLOYMENT, same_hour, ["Nothing"], [[50]]), \
        "none of the hour's file's columns: not captured"
    assert not append_capture(tmp_path, ENDPOINT, DEPLOYMENT, same_hour, COLUMNS,
                              [[1] * len(COLUMNS)], max_bytes=10), "a full file stops growing"


@pytest.mark.integration
def test_a_file_replaced_by_a_shorter_one_reads_what_is_there(collector):
    name = collector.blob_name(hour(10))
    collector.append(name, "".join(envelope(records(n, 50), hour(10)) + "\n" for n in range(0, 500, 50)))
    [listed] = collector.adapter.segments(ENDPOINT, DEPLOYMENT)
    collector.service.get_blob_client(collector.container, name).upload_blob(
        (envelope(records(0, 2), hour(10)) + "\n").encode(), overwrite=True)

    assert parsed(collector.adapter.read(listed)) == expected_csv(records(0, 2))


@pytest.mark.integration
def test_live_traffic_through_the_router_process_is_read_back(tmp_path):
    """The router (a real process) captures what it routed by live traffic, not named requests
    nor mirrored copies; LocalCapturedInputs reads the hour's file it wrote."""
    from devstack.processes import free_port, start_endpoint_router
    from shared.adapters.local_ml.captures import LocalCapturedInputs
    from tests.integration.test_local_endpoints import KEY, FakeScoringServer, post, prefill

    live, shadow = FakeScoringServer(), FakeScoringServer()
    prefill(tmp_path, ENDPOINT, {DEPLOYMENT: live.port, "d-v8": shadow.port}, {DEPLOYMENT: 100}, {"d-v8": 50})
    port = free_port()
    router = start_endpoint_router(tmp_path, tmp_path / "logs", port, KEY).wait_ready(30)
    adapter = LocalCapturedInputs(tmp_path, COLUMNS)
    try:
        sent = [records(n, 3, extra=n % 2 == 1) for n in range(0, 30, 3)]
        for rows in sent:
            columns = list(rows[0])
            body = {"input_data": {"columns": columns, "index": [0, 1, 2], "data": [[r[c] for c in columns] for r in rows]}}
            assert post(f"http://127.0.0.1:{port}", ENDPOINT, body)[0] == 200
        assert post(f"http://127.0.0.1:{port}", ENDPOINT, body, deployment=DEPLOYMENT)[0] == 200  # named: not captured
        deadline = time.monotonic() + 10  # the router writes off the request's path

        def captured() -> list[list[str]]:
            data = b"".join(captured_csv(adapter, ENDPOINT, DEPLOYMENT))
            return parsed([data]) if data else []
        while len(captured()) < 30:
            assert time.monotonic() < deadline, f"{len(captured())} rows captured"
            time.sleep(0.05)
        time.sleep(0.3)  # nothing more comes
        rows = captured()
    finally:
        router.stop()
        live.close(), shadow.close()

    assert rows == expected_csv(records(0, 30))
    assert adapter.segments(ENDPOINT, "d-v8") == [], "mirrored copies are not live traffic"

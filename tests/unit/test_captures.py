"""captured_csv: a deployment's capture segments as one CSV stream (on the fake CapturedInputs;
tests/ports/test_captured_inputs.py runs it on both real adapters)."""
from __future__ import annotations

import logging

from shared.services.monitoring.captures import captured_csv
from tests.fakes import FakeCapturedInputs

ENDPOINT = FakeCapturedInputs.ENDPOINT


def stream(captures, **options) -> bytes:
    return b"".join(captured_csv(captures, ENDPOINT, "d-v1", **options))


def test_one_header_over_every_hour_oldest_or_newest_first():
    captures = FakeCapturedInputs(chunk_size=5)  # headers split across chunks too
    captures.add("d-v1", b"Age,BMI\n30,20.5\n", hour="2026-11-22T10:00:00Z")
    captures.add("d-v1", b"Age,BMI\n40,22.5\n41,23.5\n", hour="2026-11-22T11:00:00Z")
    captures.add("d-v2", b"Age,BMI\n99,99\n", hour="2026-11-22T11:00:00Z")

    assert stream(captures) == b"Age,BMI\n30,20.5\n40,22.5\n41,23.5\n"
    assert stream(captures, newest_first=True) == b"Age,BMI\n40,22.5\n41,23.5\n30,20.5\n"
    assert stream(captures, since="2026-11-22T11:30:00Z") == b"Age,BMI\n40,22.5\n41,23.5\n"


def test_segments_are_read_only_as_the_stream_is_consumed():
    captures = FakeCapturedInputs()
    for hour in range(3):
        captures.add("d-v1", f"Age\n{hour}\n".encode(), hour=f"2026-11-22T0{hour}:00:00Z")
    chunks = captured_csv(captures, ENDPOINT, "d-v1", newest_first=True)
    assert next(chunks) == b"Age\n" and captures.reads == [f"{ENDPOINT}/d-v1/2026-11-22T02:00:00Z"]


def test_nothing_captured_or_no_port_is_an_empty_stream_and_a_segment_of_other_columns_is_left_out(caplog):
    captures = FakeCapturedInputs()
    assert stream(captures) == b"" and stream(None) == b""
    captures.add("d-v1", b"Age,BMI\n30,20.5\n", hour="2026-11-22T10:00:00Z")
    captures.add("d-v1", b"", hour="2026-11-22T11:00:00Z")
    captures.add("d-v1", b"BMI,Age\n20.5,30\n", hour="2026-11-22T12:00:00Z")
    with caplog.at_level(logging.WARNING):
        assert stream(captures) == b"Age,BMI\n30,20.5\n"
    assert [r.getMessage() for r in caplog.records] == [
        f"capture segment of {ENDPOINT}/d-v1 at 2026-11-22T12:00:00Z has other columns; left out"]

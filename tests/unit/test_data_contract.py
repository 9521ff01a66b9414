"""The data contract on whole files: real files pass; empty, oversized, truncated, non-UTF-8
files are rejected precisely; encodings, line endings and chunk boundaries do not matter."""
from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

from shared.adapters.local_files import read_file_chunks
from shared.domain.contract import DIABETES_CONTRACT, validate_csv
from tests.unit.contract_csv import COLUMNS, DEV, HEADER, PROD, codes, csv_bytes, dev_rows, only, split, with_cell


@pytest.fixture(scope="module")
def rows() -> list[str]:
    return dev_rows()


# -- the real data ---------------------------------------------------------------------


@pytest.mark.parametrize("path,expected_rows", [(DEV, 5000), (PROD, 10000)])
def test_real_files_are_accepted(path, expected_rows):
    data = path.read_bytes()
    report = validate_csv(read_file_chunks(path, 64 * 1024), declared_size=len(data))
    assert report.accepted, report.problems
    assert report.rows == expected_rows
    assert report.bytes_read == len(data)
    assert report.problems == () and report.problem_count == 0
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert report.summary() == f"accepted: {expected_rows} rows"


def test_real_file_in_7_byte_chunks_gives_the_same_report():
    data = DEV.read_bytes()
    whole = validate_csv([data])
    small = validate_csv(split(data, 7))
    assert small == whole and small.accepted


def test_columns_in_another_order_are_accepted(rows):
    order = list(reversed(range(len(COLUMNS))))
    reorder = lambda line: ",".join(line.split(",")[i] for i in order)  # noqa: E731
    data = csv_bytes([reorder(r) for r in rows], header=reorder(HEADER))
    report = validate_csv([data])
    assert report.accepted, report.problems
    assert report.rows == 300


def test_report_to_dict_is_json_ready(rows):
    bad = rows.copy()
    bad[4] = with_cell(bad[4], "Age", "150")
    report = validate_csv([csv_bytes(bad)])
    d = json.loads(json.dumps(report.to_dict()))
    assert d["accepted"] is False and d["rows"] == 300 and d["problem_count"] == 1
    assert d["problems"][0] == {
        "code": "out_of_range",
        "message": report.problems[0].message,
        "column": "Age",
        "row": 5,
        "count": 1,
    }
    assert d["summary"] == report.summary() == f"rejected: {report.problems[0].message}"


# -- file-level problems ----------------------------------------------------------------


def test_empty_file():
    report = validate_csv([])
    assert codes(report) == ["empty"]
    assert report.rows == 0 and report.bytes_read == 0
    assert report.sha256 == hashlib.sha256(b"").hexdigest()
    assert validate_csv([b""]).problems[0].code == "empty"


def test_only_blank_lines_is_empty():
    assert codes(validate_csv([b"\n\r\n\n"])) == ["empty"]


@pytest.mark.parametrize("data", [HEADER.encode(), (HEADER + "\n").encode(), (HEADER + "\r\n\r\n\n").encode()])
def test_header_only(data):
    report = validate_csv([data])
    assert codes(report) == ["header_only"]
    assert "no data rows" in report.summary()


def test_too_few_rows(rows):
    report = validate_csv([csv_bytes(rows[:42])])
    p = only(report, "too_few_rows")
    assert "42" in p.message and "100" in p.message
    relaxed = dataclasses.replace(DIABETES_CONTRACT, min_rows=10)
    assert validate_csv([csv_bytes(rows[:42])], relaxed).accepted


def test_too_large_by_declared_size_reads_nothing():
    def chunks():
        raise AssertionError("must not read")
        yield b""  # pragma: no cover

    contract = dataclasses.replace(DIABETES_CONTRACT, max_bytes=1000)
    report = validate_csv(chunks(), contract, declared_size=5000)
    p = only(report, "too_large")
    assert report.bytes_read == 0 and report.problem_count == 1
    assert "5,000" in p.message and "1,000" in p.message


def test_too_large_by_bytes_read_stops_at_once(rows):
    data = csv_bytes(rows)
    consumed = []

    def chunks():
        for c in split(data, 500):
            consumed.append(c)
            yield c

    contract = dataclasses.replace(DIABETES_CONTRACT, max_bytes=2000)
    report = validate_csv(chunks(), contract)  # no declared size: only the bytes tell
    p = only(report, "too_large")
    assert "2,000" in p.message
    assert len(consumed) == 5 and report.bytes_read == 2500  # stopped on the first chunk over
    assert report.sha256 == hashlib.sha256(data[:2500]).hexdigest()
    assert report.problems[0].code == "too_large"


def test_declared_size_that_differs_from_the_bytes_read(rows):
    data = csv_bytes(rows)
    p = only(validate_csv([data], declared_size=len(data) + 10), "size_mismatch")
    assert f"{len(data) + 10:,}" in p.message and f"{len(data):,}" in p.message


def test_not_utf8_gives_byte_offset_and_row(rows):
    bad = rows.copy()
    bad[4] = with_cell(bad[4], "BMI", "caf\xe9")  # latin-1 é
    data = csv_bytes(bad).replace("caf\xe9".encode(), "caf\xe9".encode("latin-1"))
    offset = data.index(b"\xe9")
    for chunks in ([data], split(data, 1), split(data, 7)):
        report = validate_csv(chunks)
        p = only(report, "not_utf8")
        assert p.row == 5
        assert f"byte offset {offset:,}" in p.message and "row 5" in p.message and "0xe9" in p.message
        assert not report.accepted


def test_not_utf8_in_the_header():
    report = validate_csv([b"Patient\xffID,Age\n1,2\n"])
    assert only(report, "not_utf8").row == 0


def test_line_too_long_is_bounded():
    contract = dataclasses.replace(DIABETES_CONTRACT, max_line_bytes=1000)
    report = validate_csv(split(b"x" * 100_000, 300), contract)
    assert codes(report) == ["line_too_long"]
    assert report.bytes_read < 2000


# -- encodings and line endings ---------------------------------------------------------


def test_bom_and_crlf_are_accepted(rows):
    data = b"\xef\xbb\xbf" + csv_bytes(rows, newline="\r\n")
    for chunks in ([data], split(data, 1), split(data, 7)):
        report = validate_csv(chunks)
        assert report.accepted, report.problems
        assert report.rows == 300
        assert report.sha256 == hashlib.sha256(data).hexdigest()


def test_no_final_newline_and_blank_trailing_lines(rows):
    assert validate_csv([csv_bytes(rows)[:-1]]).rows == 300
    report = validate_csv([csv_bytes(rows) + b"\n\n\r\n  \n"])
    assert report.accepted and report.rows == 300


def test_chunk_boundaries_inside_a_multibyte_character_and_a_row(rows):
    bad = rows.copy()
    bad[9] = with_cell(bad[9], "Age", "３３")  # full-width digits: 3 UTF-8 bytes each
    bad[19] = with_cell(bad[19], "BMI", "25,1")  # a comma: ragged row
    data = b"\xef\xbb\xbf" + csv_bytes(bad)
    whole = validate_csv([data])
    assert codes(whole) == ["not_numeric", "ragged_row"]
    p = whole.problems[0]
    assert p.column == "Age" and p.row == 10 and "'３３'" in p.message
    assert whole.problems[1].row == 20
    for size in (1, 2, 7, 4096):
        assert validate_csv(split(data, size)) == whole


def test_quoted_fields_are_parsed_like_the_csv_module(rows):
    quoted = [",".join(f'"{v}"' for v in r.split(",")) for r in rows]
    report = validate_csv([csv_bytes(quoted)])
    assert report.accepted, report.problems
    # a quoted value containing a line break belongs to its row
    bad = rows.copy()
    bad[49] = with_cell(bad[49], "BMI", '"25\n.3"')
    report = validate_csv(split(csv_bytes(bad), 7))
    p = only(report, "not_numeric")
    assert p.column == "BMI" and p.row == 50 and report.rows == 300


def test_stray_carriage_return_is_malformed(rows):
    data = csv_bytes(rows[:5]) + b"1,2\r3,4\n" + csv_bytes(rows[5:], header="")[1:]
    report = validate_csv([data])
    assert report.problems[0].code == "malformed_csv"
    assert report.problems[0].row == 6

"""The data contract: real files pass, each kind of bad file is rejected precisely."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from shared.domain.data_contract import (
    DIABETES_CONTRACT,
    ColumnRule,
    DataContract,
    Problem,
    ValidationReport,
    read_file_chunks,
    validate_csv,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" if (ROOT / "data" / "diabetes-dev.csv").exists() else Path("/work/shared/data")
DEV = DATA / "diabetes-dev.csv"
PROD = DATA / "diabetes-prod.csv"

COLUMNS = [c.name for c in DIABETES_CONTRACT.columns]
HEADER = ",".join(COLUMNS)


@pytest.fixture(scope="module")
def rows() -> list[str]:
    """The first 300 real data rows of the dev file, as text lines without newline."""
    lines = DEV.read_text().splitlines()
    assert lines[0] == HEADER
    return lines[1:301]


def csv_bytes(rows: list[str], header: str = HEADER, newline: str = "\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode()


def with_cell(row: str, column: str, value: str) -> str:
    cells = row.split(",")
    cells[COLUMNS.index(column)] = value
    return ",".join(cells)


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def codes(report: ValidationReport) -> list[str]:
    return [p.code for p in report.problems]


def only(report: ValidationReport, code: str) -> Problem:
    found = [p for p in report.problems if p.code == code]
    assert len(found) == 1, report.problems
    return found[0]


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


# -- the header --------------------------------------------------------------------------


def test_missing_column(rows):
    drop = COLUMNS.index("SerumInsulin")
    data = csv_bytes([",".join(c for i, c in enumerate(r.split(",")) if i != drop) for r in rows],
                     header=",".join(c for c in COLUMNS if c != "SerumInsulin"))
    report = validate_csv([data])
    p = only(report, "missing_columns")
    assert "'SerumInsulin'" in p.message and p.column == "SerumInsulin"
    assert report.rows == 0  # header problems stop validation


def test_extra_column(rows):
    data = csv_bytes([r + ",x" for r in rows], header=HEADER + ",Comment")
    report = validate_csv([data])
    assert codes(report) == ["extra_columns"]
    assert "'Comment'" in report.problems[0].message


@pytest.mark.parametrize(
    "expected,found",
    [("BMI", "bmi"), ("Age", "Age "), ("PlasmaGlucose", "PlasmaGlucoseLevel"), ("Age", "age_years"),
     ("DiastolicBloodPressure", "Diastolic_Blood_Pressure"), ("DiabetesPedigree", "DiabetesPedigre")],
)
def test_renamed_column(rows, expected, found):
    header = HEADER.replace(expected, found) if expected != "Age" else HEADER.replace(",Age,", f",{found},")
    report = validate_csv([csv_bytes(rows, header=header)])
    assert codes(report) == ["renamed_column"]
    p = report.problems[0]
    assert p.message == f"column '{expected}' appears renamed to '{found}'"
    assert p.column == expected and p.row == 0


def test_unrelated_names_are_missing_and_extra_not_renamed(rows):
    report = validate_csv([csv_bytes(rows, header=HEADER.replace("SerumInsulin", "Colour"))])
    assert codes(report) == ["missing_columns", "extra_columns"]


def test_duplicate_columns(rows):
    header = HEADER.replace("TricepsThickness", "Age")
    report = validate_csv([csv_bytes(rows, header=header)])
    assert "duplicate_columns" in codes(report)
    assert "'Age' (2 times)" in only(report, "duplicate_columns").message


# -- rows --------------------------------------------------------------------------------


def test_ragged_row(rows):
    bad = rows.copy()
    bad[6] = ",".join(bad[6].split(",")[:8])
    report = validate_csv([csv_bytes(bad)])
    p = only(report, "ragged_row")
    assert p.row == 7
    assert "row 7 has 8 fields, expected 10" in p.message


def test_not_numeric(rows):
    bad = rows.copy()
    bad[11] = with_cell(bad[11], "BMI", "twenty")
    bad[12] = with_cell(bad[12], "Pregnancies", "NA")
    report = validate_csv([csv_bytes(bad)])
    assert codes(report) == ["not_numeric", "not_numeric"]
    a, b = report.problems
    assert (a.column, a.row) == ("BMI", 12) and "column 'BMI' row 12" in a.message and "'twenty'" in a.message
    assert (b.column, b.row) == ("Pregnancies", 13) and "'NA'" in b.message


def test_long_bad_value_is_truncated_in_the_message(rows):
    bad = rows.copy()
    bad[0] = with_cell(bad[0], "BMI", "y" * 500)
    p = only(validate_csv([csv_bytes(bad)]), "not_numeric")
    assert len(p.message) < 200 and "..." in p.message


def test_underscores_and_non_ascii_digits_are_not_numbers(rows):
    bad = rows.copy()
    bad[0] = with_cell(bad[0], "SerumInsulin", "1_00")
    bad[1] = with_cell(bad[1], "BMI", "٣٣.٥")  # Arabic-Indic digits, float() would accept them
    report = validate_csv([csv_bytes(bad)])
    assert [(p.code, p.column, p.row) for p in report.problems] == [
        ("not_numeric", "SerumInsulin", 1),
        ("not_numeric", "BMI", 2),
    ]


def test_int_columns_reject_non_integers_but_accept_integral_floats(rows):
    ok = rows.copy()
    ok[0] = with_cell(ok[0], "Age", "33.0")
    ok[1] = with_cell(ok[1], "Pregnancies", " 2 ")
    assert validate_csv([csv_bytes(ok)]).accepted
    bad = rows.copy()
    bad[2] = with_cell(bad[2], "Age", "33.5")
    p = only(validate_csv([csv_bytes(bad)]), "not_integer")
    assert (p.column, p.row) == ("Age", 3) and "'33.5'" in p.message


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"])
def test_non_finite(rows, value):
    for column in ("BMI", "Age"):
        bad = rows.copy()
        bad[3] = with_cell(bad[3], column, value)
        p = only(validate_csv([csv_bytes(bad)]), "non_finite")
        assert (p.column, p.row) == (column, 4) and repr(value) in p.message


def test_out_of_range(rows):
    bad = rows.copy()
    bad[4] = with_cell(bad[4], "Age", "150")
    bad[5] = with_cell(bad[5], "BMI", "2.5")
    bad[6] = with_cell(bad[6], "Diabetic", "2")
    bad[7] = with_cell(bad[7], "PatientID", "-5")
    report = validate_csv([csv_bytes(bad)])
    got = {p.column: p for p in report.problems}
    assert set(codes(report)) == {"out_of_range"} and set(got) == {"Age", "BMI", "Diabetic", "PatientID"}
    assert got["Age"].row == 5 and "value '150' is out of range [0, 120]" in got["Age"].message
    assert got["BMI"].row == 6 and "'2.5'" in got["BMI"].message and "[5, 100]" in got["BMI"].message
    assert got["Diabetic"].row == 7 and "[0, 1]" in got["Diabetic"].message
    assert got["PatientID"].row == 8 and "[1, +inf]" in got["PatientID"].message


def test_mostly_nulls(rows):
    bad = [with_cell(r, "SerumInsulin", "" if i % 2 else " ") for i, r in enumerate(rows)]
    report = validate_csv([csv_bytes(bad)])
    p = only(report, "null_share")
    assert p.column == "SerumInsulin"
    assert "100.0%" in p.message and "5.0%" in p.message and "300 of 300" in p.message
    # a few nulls in a nullable column are fine
    few = [with_cell(r, "BMI", "") if i < 3 else r for i, r in enumerate(rows)]
    assert validate_csv([csv_bytes(few)]).accepted


def test_null_in_a_non_nullable_column(rows):
    bad = rows.copy()
    bad[2] = with_cell(bad[2], "Diabetic", "")
    p = only(validate_csv([csv_bytes(bad)]), "null_value")
    assert (p.column, p.row) == ("Diabetic", 3)
    assert "column 'Diabetic' row 3" in p.message


def test_custom_contract_without_limits():
    contract = DataContract(columns=(ColumnRule("x", "float"), ColumnRule("n", "int", nullable=False)), min_rows=1, max_null_share=0.5)
    assert validate_csv([b"n,x\n1,-1e300\n2,\n"], contract).accepted


# -- many problems -----------------------------------------------------------------------


def test_same_problem_in_one_column_is_grouped_and_counted(rows):
    bad = [with_cell(r, "Age", "200") if i % 3 == 0 else r for i, r in enumerate(rows)]
    report = validate_csv([csv_bytes(bad)])
    assert report.problem_count == 100
    p = only(report, "out_of_range")
    assert p.count == 100 and p.row == 1
    assert "100 rows of column 'Age' have this problem (rows 1, 4, 7, 10, 13, ...)" in p.message
    assert report.summary() == f"rejected: {p.message}"


def test_problem_count_counts_beyond_max_problems(rows):
    bad = rows.copy()
    for i, column in enumerate(["Age", "BMI", "PlasmaGlucose", "SerumInsulin", "DiabetesPedigree"]):
        for j in range(10):
            k = i * 20 + j
            bad[k] = with_cell(bad[k], column, "-1")
    bad[200] = "1,2"
    contract = dataclasses.replace(DIABETES_CONTRACT, max_problems=2)
    report = validate_csv([csv_bytes(bad)], contract)
    assert len(report.problems) == 2
    assert report.problem_count == 51
    assert report.problems[0].column == "Age" and report.problems[0].count == 10
    assert report.summary().endswith("(+41 more)")


def test_row_numbers_stay_exact_across_chunks_and_blocks(rows):
    many = (rows * 400)[:100_000]
    bad = many.copy()
    bad[70_000] = with_cell(bad[70_000], "Age", "x")
    bad[99_999] = with_cell(bad[99_999], "Pregnancies", "99")
    data = csv_bytes(bad)
    for size in (4 * 1024 * 1024, 1_000_003):
        report = validate_csv(split(data, size))
        assert report.rows == 100_000
        assert [(p.code, p.column, p.row) for p in report.problems] == [
            ("not_numeric", "Age", 70_001),
            ("out_of_range", "Pregnancies", 100_000),
        ]

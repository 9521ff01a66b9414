"""The data contract on the header and the cells: each kind of bad column or value is
rejected precisely, and many problems are grouped and counted."""
from __future__ import annotations

import dataclasses

import pytest

from shared.domain.contract import DIABETES_CONTRACT, ColumnRule, DataContract, validate_csv
from tests.unit.contract_csv import COLUMNS, HEADER, codes, csv_bytes, dev_rows, only, split, with_cell


@pytest.fixture(scope="module")
def rows() -> list[str]:
    return dev_rows()


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

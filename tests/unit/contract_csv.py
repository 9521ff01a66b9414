"""Test data for the data contract: the real diabetes files, and small CSVs made from their rows."""
from __future__ import annotations

from pathlib import Path

from shared.domain.contract import DIABETES_CONTRACT, Problem, ValidationReport

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" if (ROOT / "data" / "diabetes-dev.csv").exists() else Path("/work/shared/data")
DEV = DATA / "diabetes-dev.csv"
PROD = DATA / "diabetes-prod.csv"

COLUMNS = [c.name for c in DIABETES_CONTRACT.columns]
HEADER = ",".join(COLUMNS)


def dev_rows() -> list[str]:
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


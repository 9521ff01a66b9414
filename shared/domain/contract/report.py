"""What a validation found: the problems, and the verdict on the whole file."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem", "ValidationReport"]


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    column: str | None = None
    row: int | None = None  # 1-based data row (header is row 0); first occurrence
    count: int = 1  # occurrences this entry stands for (grouped row problems)

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "column": self.column, "row": self.row, "count": self.count}


@dataclass(frozen=True)
class ValidationReport:
    accepted: bool
    rows: int
    bytes_read: int
    problems: tuple[Problem, ...]
    problem_count: int
    sha256: str

    def summary(self) -> str:
        if self.accepted:
            return f"accepted: {self.rows} rows"
        if not self.problems:  # cannot happen, kept total
            return f"rejected: {self.problem_count} problems"
        first = self.problems[0]
        more = self.problem_count - first.count
        return f"rejected: {first.message}" + (f" (+{more} more)" if more > 0 else "")

    def to_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "rows": self.rows,
            "bytes_read": self.bytes_read,
            "sha256": self.sha256,
            "problem_count": self.problem_count,
            "problems": [p.to_dict() for p in self.problems],
            "summary": self.summary(),
        }

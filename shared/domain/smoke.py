"""Smoke test of a deployment: request payloads and the checks on what came back."""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from typing import Iterable

from shared.domain.contract import DIABETES_CONTRACT


def payload(columns: list[str], rows: list[list]) -> dict:
    """Azure ML's request body for MLflow models."""
    return {"input_data": {"columns": columns, "index": list(range(len(rows))), "data": rows}}


def sample_rows(chunks: Iterable[bytes], count: int = 5) -> tuple[list[str], list[list]]:
    """The first `count` data rows of a CSV (features only, numbers parsed), from its first chunk(s)."""
    text = b""
    for chunk in chunks:
        text += chunk
        if text.count(b"\n") > count + 1:
            break
    lines = text.decode("utf-8-sig", errors="replace").splitlines()[: count + 1]
    reader = list(csv.reader(io.StringIO("\n".join(lines))))
    header, rows = reader[0], reader[1:]
    not_features = DIABETES_CONTRACT.not_features
    keep = [i for i, name in enumerate(header) if name not in not_features]
    return [header[i] for i in keep], [[_number(row[i]) for i in keep] for row in rows if len(row) == len(header)]


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        return float(text)


@dataclass(frozen=True)
class SmokeResult:
    passed: bool
    rows: int
    latency_ms: float
    problems: tuple[str, ...]
    predictions: tuple = ()

    def to_dict(self) -> dict:
        return {**asdict(self), "problems": list(self.problems), "predictions": list(self.predictions)}


def check_response(status: int, body, expected_rows: int, latency_ms: float, max_latency_ms: float) -> SmokeResult:
    problems = []
    predictions: list = []
    if status != 200:
        problems.append(f"deployment answered HTTP {status}")
    elif not isinstance(body, list):
        problems.append(f"expected a JSON list of predictions, got {type(body).__name__}")
    else:
        predictions = body
        if len(body) != expected_rows:
            problems.append(f"expected {expected_rows} predictions, got {len(body)}")
        bad = [p for p in body if p not in (0, 1)]
        if bad:
            problems.append(f"predictions must be 0 or 1; got {bad[:3]!r}")
    if latency_ms > max_latency_ms:
        problems.append(f"latency {latency_ms:.0f} ms is over the limit of {max_latency_ms:.0f} ms")
    return SmokeResult(not problems, expected_rows, round(latency_ms, 1), tuple(problems), tuple(predictions[:20]))

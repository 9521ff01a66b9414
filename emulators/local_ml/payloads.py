"""Scoring bodies: Azure ML's request shape to MLflow's and back, and the refusal of a bad request."""
from __future__ import annotations

import json

REQUEST_SHAPE = 'expected {"input_data": {"columns": [...], "index": [...], "data": [[...], ...]}}'


class RequestError(Exception):
    """A request the router refuses: HTTP status and a message safe to show."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def to_mlflow_request(body: bytes) -> bytes:
    """Azure ML's `{"input_data": {"columns", "index", "data"}}` as MLflow's `{"dataframe_split": ...}`."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RequestError(400, f"the request body is not valid JSON; {REQUEST_SHAPE}") from None
    if not isinstance(document, dict) or not isinstance(document.get("input_data"), dict):
        raise RequestError(400, f"the request body has no 'input_data' object; {REQUEST_SHAPE}")
    data = document["input_data"]
    columns, rows = data.get("columns"), data.get("data")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise RequestError(400, "input_data.columns must be a list of column names")
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise RequestError(400, "input_data.data must be a list of rows (lists of values)")
    for number, row in enumerate(rows):
        if len(row) != len(columns):
            raise RequestError(400, f"input_data.data row {number} has {len(row)} values for {len(columns)} columns")
    split = {"columns": columns, "data": rows}
    if "index" in data:
        index = data["index"]
        if not isinstance(index, list) or len(index) != len(rows):
            raise RequestError(400, f"input_data.index must be a list of {len(rows)} labels, one per row")
        split["index"] = index
    return json.dumps({"dataframe_split": split}).encode()


def unwrap_predictions(data: bytes) -> bytes:
    """MLflow's `{"predictions": [...]}` → the bare list, as Azure ML answers for MLflow models."""
    try:
        document = json.loads(data)
    except ValueError:
        return data
    if isinstance(document, dict) and "predictions" in document:
        return json.dumps(document["predictions"]).encode()
    return data


def short_message(data: bytes) -> str:
    """The gist of a failing scoring server's answer, at most 200 characters."""
    try:
        document = json.loads(data)
        text = document.get("message") or document.get("error") if isinstance(document, dict) else None
    except ValueError:
        text = None
    return (str(text) if text else data.decode("utf-8", errors="replace")).strip()[:200] or "(no message)"

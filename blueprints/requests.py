"""Reading request bodies and the reviewer's identity (shared by the approval routes)."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

import azure.functions as func

from shared.domain.errors import InvalidInput

PRINCIPAL_HEADER = "X-MS-CLIENT-PRINCIPAL-NAME"  # set by App Service authentication, not by clients


def json_body(req: func.HttpRequest, required: bool = True) -> dict:
    raw = req.get_body()
    if not raw.strip():
        if required:
            raise InvalidInput("request body must be a JSON object")
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("request body must be a JSON object")
    return body


def form_body(req: func.HttpRequest) -> dict[str, str]:
    try:
        fields = parse_qs(req.get_body().decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("form body is not valid") from None
    return {k: v[0] for k, v in fields.items()}


def reviewer(req: func.HttpRequest, fields: dict) -> str:
    """The authenticated principal when App Service authentication is on, else the named reviewer."""
    principal = (req.headers.get(PRINCIPAL_HEADER) or "").strip()
    named = fields.get("reviewer")
    if principal:
        return principal
    if not isinstance(named, str) or not named.strip():
        raise InvalidInput("reviewer is required (body field 'reviewer', or sign in with App Service authentication)")
    return named.strip()


def text_field(fields: dict, name: str, limit: int = 2000) -> str:
    value = fields.get(name, "")
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string")
    if len(value) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters")
    return value


def page_params(req: func.HttpRequest, default: int = 100, largest: int = 200) -> tuple[int, str | None]:
    """`?limit=` (1..largest) and `?continuation=` (the token of the previous page) of a list route."""
    raw = req.params.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= largest:
        raise InvalidInput(f"limit must be an integer from 1 to {largest}")
    continuation = req.params.get("continuation") or None
    if continuation is not None and len(continuation) > 1000:
        raise InvalidInput("continuation token is not one this service issued")
    return int(raw), continuation

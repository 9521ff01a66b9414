"""Reading request bodies and the reviewer's identity (shared by the approval routes)."""
from __future__ import annotations

from urllib.parse import parse_qs

import azure.functions as func

from shared.domain.errors import InvalidInput
from shared.domain.json_bodies import DECISION_BODY, JsonLimits, check_size, parse_json_object
from shared.domain.naming import validate_record_id

PRINCIPAL_HEADER = "X-MS-CLIENT-PRINCIPAL-NAME"  # set by App Service authentication, not by clients


def json_body(req: func.HttpRequest, required: bool = True, limits: JsonLimits = DECISION_BODY) -> dict:
    """The request's JSON object within `limits` (size, depth, number length): 400 naming the limit."""
    raw = req.get_body()
    check_size(raw, "request body", limits)
    if not raw.strip():
        if required:
            raise InvalidInput("request body must be a JSON object")
        return {}
    return parse_json_object(raw, "request body", limits)


def route_id(req: func.HttpRequest, param: str, what: str) -> str:
    """A record id from the route, checked against the ids' grammar before any storage sees it."""
    return validate_record_id(req.route_params.get(param), what)


def version_param(req: func.HttpRequest, param: str = "version") -> str:
    """A model version from the route: a positive integer of ASCII digits, at most 9 of them."""
    value = req.route_params.get(param) or ""
    if not (value.isascii() and value.isdigit()) or len(value) > 9 or int(value) < 1:
        raise InvalidInput(f"version must be a positive integer of at most 9 digits; got {value[:40]!r}")
    return str(int(value))


def form_body(req: func.HttpRequest) -> dict[str, str]:
    raw = req.get_body()
    check_size(raw, "form body", DECISION_BODY)
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
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
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 4 or not 1 <= int(raw) <= largest:
        raise InvalidInput(f"limit must be an integer from 1 to {largest}")
    continuation = req.params.get("continuation") or None
    if continuation is not None and len(continuation) > 1000:
        raise InvalidInput("continuation token is not one this service issued")
    return int(raw), continuation

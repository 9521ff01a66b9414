"""Reading request bodies and who is asking (shared by the routes): the principal App Service
authentication signed in (AUTH_MODE=app-service), or the name a reviewer gives (AUTH_MODE=none)."""
from __future__ import annotations

from urllib.parse import parse_qs

import azure.functions as func

from shared.bootstrap import get_services
from shared.domain.errors import InvalidInput, Unauthorized
from shared.domain.json_bodies import DECISION_BODY, JsonLimits, check_size, parse_json_object
from shared.domain.naming import validate_record_id
from shared.domain.principals import (
    PRINCIPAL_HEADER, PRINCIPAL_HEADER_PREFIX, PRINCIPAL_IDP_HEADER, Principal, named, parse_principal,
)

APP_SERVICE = "app-service"


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


def auth_mode() -> str:
    """AUTH_MODE: "app-service" when App Service authentication signs callers in, else "none"."""
    return get_services().settings.delivery.auth_mode


def signed_in(req: func.HttpRequest, mode: str) -> Principal | None:
    """The principal App Service authentication signed in (None: nobody). Without it (AUTH_MODE=none)
    nothing strips these headers on the way in, so any of them is refused (400), never believed."""
    sent = sorted(k for k in req.headers.keys() if k.lower().startswith(PRINCIPAL_HEADER_PREFIX))
    if mode != APP_SERVICE:
        if sent:
            raise InvalidInput("principal headers are only accepted behind App Service authentication "
                               f"(AUTH_MODE=app-service); refused: {', '.join(sent)[:200]}")
        return None
    encoded = req.headers.get(PRINCIPAL_HEADER)
    if not encoded:
        return None
    return parse_principal(encoded, req.headers.get(PRINCIPAL_IDP_HEADER) or "")


def decider(req: func.HttpRequest, fields: dict, mode: str | None = None) -> Principal:
    """Who decides: behind App Service authentication the signed-in principal (a body field
    'reviewer' is ignored; nobody signed in: 401), else the reviewer the body names."""
    mode = mode or auth_mode()
    principal = signed_in(req, mode)
    if mode == APP_SERVICE:
        if principal is None:
            raise Unauthorized("sign in: with App Service authentication (AUTH_MODE=app-service) the signed-in "
                               "principal decides, and nobody is signed in")
        return principal
    name = fields.get("reviewer")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("reviewer is required (body field 'reviewer', or sign in with App Service authentication)")
    return named(name)


def reviewer(req: func.HttpRequest, fields: dict) -> str:
    """The name of who acts (decider's rules): the signed-in principal, or the named reviewer."""
    return decider(req, fields).display


def requester(req: func.HttpRequest, fields: dict) -> list[str]:
    """Who asks for training: the signed-in principal's names and ids, else the body field
    'requested_by' when given (AUTH_MODE=none); [] when nobody is named."""
    mode = auth_mode()
    principal = signed_in(req, mode)
    if mode == APP_SERVICE:
        return list(principal.identities) if principal else []
    name = text_field(fields, "requested_by", 200).strip()
    return [name] if name else []


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

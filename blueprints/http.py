"""JSON responses and the one place where errors become HTTP statuses (never a stack trace)."""
from __future__ import annotations

import functools
import json
import logging
from typing import Callable

import azure.functions as func

from shared.domain.errors import DomainError
from shared.settings import SettingsError

log = logging.getLogger(__name__)


def json_response(body, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body, default=str, indent=1), status_code=status, mimetype="application/json")


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps({"error": message}, indent=1), status_code=status,
                             mimetype="application/json", headers=headers)


def domain_error_response(error: DomainError) -> func.HttpResponse:
    """A domain error's status and message; a 503 says when to try again (Retry-After)."""
    retry_after = getattr(error, "retry_after_seconds", None)
    return error_response(error.status, error.message, {"Retry-After": str(retry_after)} if retry_after else None)


def http_errors(handler: Callable[..., func.HttpResponse]) -> Callable[..., func.HttpResponse]:
    """Map domain errors to their status; anything else is logged and answered with a plain 500."""

    @functools.wraps(handler)
    def wrapper(*args, **kwargs) -> func.HttpResponse:
        try:
            return handler(*args, **kwargs)
        except DomainError as error:
            if error.status >= 500:
                log.error("%s failed: %s", handler.__name__, error.message)
            return domain_error_response(error)
        except SettingsError as error:
            log.error("configuration error: %s", error)
            return error_response(500, f"configuration error: {error}")
        except Exception:
            log.exception("%s failed", handler.__name__)
            return error_response(500, "internal error")

    return wrapper


def query_choice(req: func.HttpRequest, name: str, allowed: set[str]) -> str | None:
    from shared.domain.errors import InvalidInput

    value = req.params.get(name)
    if value is not None and value not in allowed:
        raise InvalidInput(f"query parameter {name!r} must be one of {sorted(allowed)}; got {value!r}")
    return value


def page_response(name: str, page, to_dict=lambda item: item.to_dict()) -> func.HttpResponse:
    """A list route's body: the items, their count and the token of the next page (null at the end)."""
    items = [to_dict(item) for item in page.items]
    return json_response({name: items, "count": len(items), "continuation": page.continuation})


def accepted(body: dict, status_url: str) -> func.HttpResponse:
    """202: the request is claimed and its steps run on the queue; `status_url` (also `Location`) shows the outcome."""
    response = json_response({**body, "status_url": status_url}, 202)
    response.headers["Location"] = status_url
    return response

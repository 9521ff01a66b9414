"""The host's HTTP front end: ``/api/...`` triggers, the Event Grid webhook and the admin API."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any, Callable

import azure.functions as func

from . import auth, blob_events, easy_auth, eventgrid
from .functions import BLOB, EVENT_GRID, QUEUE, TIMER, FunctionInfo
from .http_server import Request, Response
from .registry import HOST_API_REASON, FunctionRegistry, http_methods

log = logging.getLogger("devhost")

EVENTGRID_PATH = "/runtime/webhooks/eventgrid"
BLOBS_PATH = "/runtime/webhooks/blobs"
ADMIN_FUNCTIONS_PATH = "/admin/functions"


class Dispatcher:
    """Maps a request to a function or host endpoint; knows nothing about sockets.

    ``run_manual(fn, input_text)`` starts an admin-API run of a timer, Event Grid or blob
    function in the background; the dispatcher has checked the input before it calls it.
    ``blob_event(fn, container, name)`` hands a blob named by the blobs webhook to ``fn``'s
    blob trigger without waiting for the run.
    """

    def __init__(self, registry: FunctionRegistry, host_id: str, run_manual: Callable[[FunctionInfo, str], None],
                 blob_event: Callable[[FunctionInfo, str, str], None] | None = None):
        self.registry = registry
        self.host_id = host_id
        self.run_manual = run_manual
        self.blob_event = blob_event or (lambda fn, container, name: None)

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == EVENTGRID_PATH:
            return self._eventgrid(request)
        if path == BLOBS_PATH:
            return self._blobs_webhook(request)
        if path == "/admin/host/status" and request.method == "GET":
            return Response.json(200, {"state": "Running", "id": self.host_id, "functions": self.registry.names})
        if path == ADMIN_FUNCTIONS_PATH and request.method == "GET":
            return self._list_functions(request)
        if path.startswith(ADMIN_FUNCTIONS_PATH + "/"):
            return self._admin_run(request, path[len(ADMIN_FUNCTIONS_PATH + "/"):])
        return self._http_trigger(request)

    # --- HTTP triggers -----------------------------------------------------------------
    def _http_trigger(self, request: Request) -> Response:
        prefix = "/" + self.registry.route_prefix if self.registry.route_prefix else ""
        if prefix and not (request.path == prefix or request.path.startswith(prefix + "/")):
            return Response.json(404)
        matched = self.registry.matching_routes(request.path[len(prefix):] or "/")
        if not matched:
            return Response.json(404)
        allowed = [(fn, params) for fn, params in matched if _method_allowed(fn, request.method)]
        if not allowed:
            return Response.json(405)
        fn, route_params = allowed[0]
        if not auth.is_authorized(auth.normalize_level(fn.trigger.auth_level), request.key):
            return Response.json(401)
        http_request = func.HttpRequest(
            method=request.method, url=request.url, headers=easy_auth.apply(request.headers),
            params=request.query, route_params=route_params, body=request.body,
        )
        result = self.registry.run(fn, http_request, HOST_API_REASON)
        if not result.succeeded:
            return Response.json(500, {"error": "internal error", "invocationId": result.id})
        return _to_response(result.value, result.id, fn)

    # --- Event Grid --------------------------------------------------------------------
    def _eventgrid(self, request: Request) -> Response:
        if request.method not in ("POST", "OPTIONS"):
            return Response.json(405)
        if not auth.is_authorized(auth.EVENTGRID, request.key):
            return Response.json(401)
        fn = self.registry.find(request.query.get("functionName", ""))
        if fn is None or fn.trigger_type != EVENT_GRID:
            return Response.json(404, {"error": "unknown Event Grid function"})
        if request.method == "OPTIONS":
            reply = eventgrid.handle_options(request.headers)
        else:
            def deliver(element: dict) -> bool:
                value = eventgrid.to_trigger_value(element, fn.trigger_annotation)
                reason = f"EventGrid trigger fired at {datetime.now(timezone.utc).isoformat()}"
                return self.registry.run(fn, value, reason).succeeded

            reply = eventgrid.handle_post(request.headers, request.body, deliver)
        return Response.json(reply.status, reply.body, reply.headers)

    # --- blobs extension (source=EventGrid blob triggers) --------------------------------
    def _blobs_webhook(self, request: Request) -> Response:
        if request.method != "POST":
            return Response.json(405)
        if not auth.is_authorized(auth.BLOBS, request.key):
            return Response.json(401)
        function_id = request.query.get("functionName", "")
        fn = self.registry.find(blob_events.function_name(function_id))
        if fn is None or fn.trigger_type != BLOB or not function_id.startswith(blob_events.FUNCTION_ID_PREFIX):
            return Response.json(404, {"error": "unknown blob function (functionName=Host.Functions.<name>)"})
        reply = blob_events.handle_post(
            request.headers, request.body, lambda blob: self.blob_event(fn, blob.container, blob.name))
        return Response.json(reply.status, reply.body, reply.headers)

    # --- admin -------------------------------------------------------------------------
    def _list_functions(self, request: Request) -> Response:
        if not auth.is_authorized(auth.ADMIN, request.key):
            return Response.json(401)
        return Response.json(200, [self.registry.describe(fn) for fn in self.registry.functions])

    def _admin_run(self, request: Request, name: str) -> Response:
        if request.method != "POST":
            return Response.json(405)
        if not auth.is_authorized(auth.ADMIN, request.key):
            return Response.json(401)
        fn = self.registry.find(name)
        if fn is None:
            return Response.json(404)
        if fn.trigger_type not in (TIMER, EVENT_GRID, BLOB, QUEUE):
            return Response.json(400, {"error": f"cannot run a {fn.trigger_type} function by hand"})
        text = _admin_input(request.body)
        if text is None:
            return Response.json(400, {"error": 'body must be {"input": "..."}'})
        if fn.trigger_type == EVENT_GRID:
            try:
                event = json.loads(text)
            except ValueError:
                return Response.json(400, {"error": "input must be a JSON event"})
            if not isinstance(event, dict):
                return Response.json(400, {"error": "input must be a JSON event object"})
        self.run_manual(fn, text)
        return Response.json(202)


def _admin_input(body: bytes) -> str | None:
    """The ``input`` of an admin run's ``{"input": ...}`` body as text (JSON for non-strings); None if malformed."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return None
    text = payload.get("input", "") if isinstance(payload, dict) else None
    if text is not None and not isinstance(text, str):
        text = json.dumps(text)
    return text


def _method_allowed(fn: FunctionInfo, method: str) -> bool:
    methods = http_methods(fn)
    if not methods:
        return True
    return method.upper() in {m.upper() for m in methods}


def _to_response(value: Any, invocation_id: str, fn: FunctionInfo) -> Response:
    if value is None:
        return Response(204)
    if isinstance(value, (str, bytes)):
        value = func.HttpResponse(value)
    if not isinstance(value, func.HttpResponse):
        log.error("Function 'Functions.%s' returned %s, not an HttpResponse", fn.name, type(value).__name__)
        return Response.json(500, {"error": "internal error", "invocationId": invocation_id})
    headers = list(value.headers.items())
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", f"{value.mimetype}; charset={value.charset}"))
    return Response(value.status_code, value.get_body() or b"", headers)

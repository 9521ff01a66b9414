"""The host's HTTP front end: ``/api/...`` triggers, the Event Grid webhook and the admin API."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from . import auth, eventgrid
from .functions import BLOB, EVENT_GRID, TIMER, FunctionInfo

if TYPE_CHECKING:
    from .host import FunctionsHost

log = logging.getLogger("devhost")

MAX_BODY_BYTES = 100 * 1024 * 1024  # the real host's default request size limit
EVENTGRID_PATH = "/runtime/webhooks/eventgrid"


@dataclass
class Request:
    method: str
    path: str  # without query, still percent-encoded
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    url: str

    @property
    def key(self) -> str | None:
        return auth.presented_key(self.headers, self.query)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, status: int, payload: Any = None, headers: dict[str, str] | None = None) -> "Response":
        extra = list((headers or {}).items())
        if payload is None:
            return cls(status, b"", extra)
        return cls(status, json.dumps(payload).encode(), [("Content-Type", "application/json; charset=utf-8"), *extra])


class Dispatcher:
    """Maps a request to a function or host endpoint; knows nothing about sockets."""

    def __init__(self, host: "FunctionsHost"):
        self.host = host

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == EVENTGRID_PATH:
            return self._eventgrid(request)
        if path == "/admin/host/status" and request.method == "GET":
            return Response.json(200, {"state": "Running", "id": self.host.host_id,
                                       "functions": [f.name for f in self.host.functions]})
        if path == "/admin/functions" and request.method == "GET":
            return self._list_functions(request)
        if path.startswith("/admin/functions/"):
            return self._admin_run(request, path[len("/admin/functions/"):])
        return self._http_trigger(request)

    # --- HTTP triggers -----------------------------------------------------------------
    def _http_trigger(self, request: Request) -> Response:
        prefix = "/" + self.host.route_prefix if self.host.route_prefix else ""
        if prefix and not (request.path == prefix or request.path.startswith(prefix + "/")):
            return Response.json(404)
        relative = request.path[len(prefix):] or "/"
        matched = [(fn, params) for fn, template in self.host.http_routes
                   if (params := template.match(relative)) is not None]
        if not matched:
            return Response.json(404)
        allowed = [(fn, params) for fn, params in matched if _method_allowed(fn, request.method)]
        if not allowed:
            return Response.json(405)
        fn, route_params = allowed[0]
        if not auth.is_authorized(auth.normalize_level(fn.trigger.auth_level), request.key):
            return Response.json(401)
        http_request = func.HttpRequest(
            method=request.method, url=request.url, headers=request.headers,
            params=request.query, route_params=route_params, body=request.body,
        )
        result = self.host.run(fn, http_request, "This function was programmatically called via the host APIs.")
        if not result.succeeded:
            return Response.json(500, {"error": "internal error", "invocationId": result.id})
        return _to_response(result.value, result.id, fn)

    # --- Event Grid --------------------------------------------------------------------
    def _eventgrid(self, request: Request) -> Response:
        if request.method not in ("POST", "OPTIONS"):
            return Response.json(405)
        if not auth.is_authorized(auth.EVENTGRID, request.key):
            return Response.json(401)
        fn = self.host.function(request.query.get("functionName", ""))
        if fn is None or fn.trigger_type != EVENT_GRID:
            return Response.json(404, {"error": "unknown Event Grid function"})
        if request.method == "OPTIONS":
            reply = eventgrid.handle_options(request.headers)
        else:
            def deliver(element: dict) -> bool:
                value = eventgrid.to_trigger_value(element, fn.trigger_annotation)
                reason = f"EventGrid trigger fired at {_now_iso()}"
                return self.host.run(fn, value, reason).succeeded

            reply = eventgrid.handle_post(request.headers, request.body, deliver)
        return Response.json(reply.status, reply.body, reply.headers)

    # --- admin -------------------------------------------------------------------------
    def _list_functions(self, request: Request) -> Response:
        if not auth.is_authorized(auth.ADMIN, request.key):
            return Response.json(401)
        return Response.json(200, [self.host.describe(fn) for fn in self.host.functions])

    def _admin_run(self, request: Request, name: str) -> Response:
        if request.method != "POST":
            return Response.json(405)
        if not auth.is_authorized(auth.ADMIN, request.key):
            return Response.json(401)
        fn = self.host.function(name)
        if fn is None:
            return Response.json(404)
        if fn.trigger_type not in (TIMER, EVENT_GRID, BLOB):
            return Response.json(400, {"error": f"cannot run a {fn.trigger_type} function by hand"})
        try:
            payload = json.loads(request.body or b"{}")
            text = payload.get("input", "") if isinstance(payload, dict) else None
            if text is not None and not isinstance(text, str):
                text = json.dumps(text)
        except ValueError:
            text = None
        if text is None:
            return Response.json(400, {"error": 'body must be {"input": "..."}'})
        if fn.trigger_type == EVENT_GRID:
            try:
                event = json.loads(text)
            except ValueError:
                return Response.json(400, {"error": "input must be a JSON event"})
            if not isinstance(event, dict):
                return Response.json(400, {"error": "input must be a JSON event object"})
        self.host.run_manual(fn, text)
        return Response.json(202)


def _method_allowed(fn: FunctionInfo, method: str) -> bool:
    methods = fn.trigger.methods
    if not methods:
        return True
    return method.upper() in {str(getattr(m, "value", m)).upper() for m in methods}


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


def _now_iso() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "devhost"
    sys_version = ""
    dispatcher: Dispatcher  # set on the subclass made per server
    max_body: int = MAX_BODY_BYTES

    def _serve(self) -> None:
        split = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            return
        host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        request = Request(
            method=self.command.upper(),
            path=split.path or "/",
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k: v for k, v in self.headers.items()},
            body=body,
            url=f"http://{host}{self.path}",
        )
        try:
            response = self.dispatcher.handle(request)
        except Exception:  # noqa: BLE001 - a host bug must not leak a trace to the client
            log.exception("Host error while handling %s %s", request.method, request.path)
            response = Response.json(500, {"error": "internal error"})
        log.debug("%s %s -> %d", request.method, request.path, response.status)
        self._write(response)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._write(Response.json(400, {"error": "bad Content-Length"}), close=True)
            return None
        if length > self.max_body:
            self._write(Response.json(413, {"error": "request body too large"}), close=True)
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes | None:
        parts, total = [], 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > self.max_body:
                self._write(Response.json(413, {"error": "request body too large"}), close=True)
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _write(self, response: Response, close: bool = False) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        body = b"" if self.command == "HEAD" else response.body
        self.send_header("Content-Length", str(len(response.body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # The default access log prints the raw path, keys in ?code= included.
        pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default listen backlog (5) resets connections under a burst of concurrent calls.
    request_queue_size = 128


def make_server(dispatcher: Dispatcher, port: int, host: str = "127.0.0.1",
                max_body: int = MAX_BODY_BYTES) -> ThreadingHTTPServer:
    handler = type("Handler", (_Handler,), {"dispatcher": dispatcher, "max_body": max_body})
    server = _Server((host, port), handler)
    return server

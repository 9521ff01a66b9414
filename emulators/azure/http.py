"""The emulator's HTTP layer: requests, responses, a router by host, method and path, and the server.

Every handler is `handler(request) -> Response`; path patterns are regular expressions matched in
full against the URL path (named groups become `request.params`), case-insensitively as ARM
matches resource ids. A handler raises `HttpError` for an error answer; anything else it raises
becomes ARM's 500 body (and is logged), never a trace on the wire.
"""
from __future__ import annotations

import json
import logging
import re
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger("azure_emulator")

MAX_BODY_BYTES = 256 * 1024 * 1024


@dataclass
class Request:
    method: str
    host: str  # the Host header without the port, lower case
    path: str  # unquoted
    raw_path: str  # as sent, with the query
    query: dict[str, str]  # first value of each parameter; keys as sent
    headers: dict[str, str]  # lower-case names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    principal: Any = None  # set by the authentication step (emulators.azure.identity)
    client: str = ""  # who sent it, for the trail: "app", "job", "emulator", ...

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise HttpError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-able, bytes or str; None for an empty body
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def payload(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class HttpError(Exception):
    """An error answer in ARM's shape: {"error": {"code", "message"[, "details"]}}."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 details: list | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.details = details

    def response(self) -> Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return Response(self.status, {"error": error}, dict(self.headers))


Handler = Callable[[Request], Response]
Hook = Callable[[Request], "Response | None"]


class Router:
    """Routes by (host pattern, method, path pattern). `before` hooks run in order before routing
    (faults, authentication); the first that returns a Response answers. `after` hooks see every
    answer (the request trail)."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern | None, str, re.Pattern, Handler]] = []
        self.before: list[Hook] = []
        self.after: list[Callable[[Request, Response], None]] = []

    def route(self, method: str, path: str, handler: Handler, host: str | None = None) -> None:
        self._routes.append((re.compile(host, re.I) if host else None, method.upper(),
                             re.compile(path, re.I), handler))

    def dispatch(self, request: Request) -> Response:
        try:
            response = self._answer(request)
        except HttpError as error:
            response = error.response()
        except Exception:  # noqa: BLE001 - the wire gets ARM's 500, the log gets the trace
            log.exception("%s %s failed", request.method, request.path)
            response = HttpError(500, "InternalServerError", "The emulator failed to answer; see its log.").response()
        for hook in self.after:
            try:
                hook(request, response)
            except Exception:  # noqa: BLE001
                log.exception("after-hook failed")
        return response

    def _answer(self, request: Request) -> Response:
        for hook in self.before:
            answer = hook(request)
            if answer is not None:
                return answer
        path_matched = False
        for host, method, pattern, handler in self._routes:
            if host is not None and not host.fullmatch(request.host):
                continue
            match = pattern.fullmatch(request.path)
            if not match:
                continue
            path_matched = True
            if method != request.method:
                continue
            request.params = {k: v for k, v in match.groupdict().items() if v is not None}
            return handler(request)
        if path_matched:
            raise HttpError(405, "MethodNotAllowed", f"The method {request.method} is not allowed on {request.path}.")
        raise HttpError(404, "NoRegisteredProviderFound" if request.path.startswith("/subscriptions") else "NotFound",
                        f"No route for {request.method} {request.path}.")


def parse_request(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Request:
    split = urlsplit(raw_path)
    query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
    host = headers.get("host", "").rsplit(":", 1)[0] if not headers.get("host", "").startswith("[") \
        else headers["host"].split("]")[0] + "]"
    return Request(method.upper(), host.lower(), unquote(split.path), raw_path, query, headers, body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "azure-emulator"
    router: Router

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _handle(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES or headers.get("transfer-encoding", "").lower() == "chunked":
            self.close_connection = True
            self._write(HttpError(400 if length < 0 else 413, "InvalidRequest",
                                  "Send the body with a valid Content-Length.").response())
            return
        body = self.rfile.read(length) if length else b""
        request = parse_request(self.command, self.path, headers, body)
        self._write(self.router.dispatch(request))

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _handle

    def _write(self, response: Response) -> None:
        payload = b"" if self.command == "HEAD" else response.payload()
        reason = HTTPStatus(response.status).phrase if response.status in HTTPStatus._value2member_map_ else ""
        lines = [f"HTTP/1.1 {response.status} {reason}", f"Server: {self.server_version}",
                 f"Date: {self.date_time_string()}", f"Content-Length: {len(payload)}"]
        if payload or response.body is not None:
            lines.append(f"Content-Type: {response.content_type}")
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's signature
        log.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def serve(router: Router, port: int, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Start serving `router` on host:port (HTTPS when `tls` is given) in a daemon thread."""
    handler = type("Handler", (_Handler,), {"router": router})
    server = _Server((host, port), handler)
    if tls is not None:
        # The handshake happens in the connection's own thread, on its first read.
        server.socket = tls.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, name=f"http-{port}", daemon=True).start()
    return server


def arm_error(status: int, code: str, message: str, **headers: str) -> HttpError:
    return HttpError(status, code, message, headers=dict(headers))

"""The host's HTTP server: sockets, bodies and headers in, ``Request``/``Response`` out.

It knows no functions: every parsed request goes to the ``dispatch`` callable it was made with.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from . import auth

log = logging.getLogger("devhost")

MAX_BODY_BYTES = 100 * 1024 * 1024  # the real host's default request size limit


@dataclass
class Request:
    """One parsed HTTP request."""

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
    """What to answer: status, body and headers (Content-Length is added when written)."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, status: int, payload: Any = None, headers: dict[str, str] | None = None) -> "Response":
        extra = list((headers or {}).items())
        if payload is None:
            return cls(status, b"", extra)
        return cls(status, json.dumps(payload).encode(), [("Content-Type", "application/json; charset=utf-8"), *extra])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "devhost"
    sys_version = ""
    dispatch: Callable[[Request], Response]  # set on the subclass made per server
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
            response = self.dispatch(request)
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


def make_server(dispatch: Callable[[Request], Response], port: int, host: str = "127.0.0.1",
                max_body: int = MAX_BODY_BYTES) -> ThreadingHTTPServer:
    """A server on ``host:port`` (0: any free port) answering every request with ``dispatch(request)``."""
    handler = type("Handler", (_Handler,), {"dispatch": staticmethod(dispatch), "max_body": max_body})
    return _Server((host, port), handler)

"""The router's HTTP layer: `GET /health`, `POST /endpoints/<endpoint>/score`, one write per answer."""
from __future__ import annotations

import json
import logging
import socket
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from emulators.local_ml.payloads import RequestError
from emulators.local_ml.scoring import DEPLOYMENT_HEADER, Router

log = logging.getLogger("endpoint_router")

MAX_BODY_BYTES = 64 * 1024 * 1024


class RouterHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; every answer goes out in one write (no Nagle/delayed-ACK stalls)."""

    protocol_version = "HTTP/1.1"
    server_version = "local-endpoint-router"
    router: Router  # set on the subclass made by make_server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/health":
            self._reply(200, b'{"status": "ok"}')
        else:
            self._error(404, f"no route GET {self.path.split('?')[0]}")

    def do_POST(self) -> None:
        started = time.perf_counter()
        path = self.path.split("?")[0].strip("/").split("/")
        try:
            body = self._read_body()
            if len(path) != 3 or path[0] != "endpoints" or path[2] != "score":
                raise RequestError(404, "no route: POST /endpoints/<endpoint>/score")
            if not self.router.authorized(self.headers.get("Authorization")):
                raise RequestError(401, "missing or wrong key: send 'Authorization: Bearer <endpoint key>'")
            named = self.headers.get(DEPLOYMENT_HEADER) or None
            status, data, content_type, deployment = self.router.score(path[1], named, body)
        except RequestError as error:
            self._error(error.status, error.message)
            log.debug("POST %s → %d (%.1f ms)", "/".join(path[:2]), error.status, _ms(started))
            return
        self._reply(status, data, content_type, {DEPLOYMENT_HEADER: deployment} if deployment else None)
        log.debug("POST %s → %d from %s (%.1f ms)", "/".join(path[:2]), status, deployment, _ms(started))

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise RequestError(411, "send the body with a Content-Length (chunked encoding is not supported)")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise RequestError(400, "invalid Content-Length") from None
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise RequestError(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length) if length > 0 else b""

    def _error(self, status: int, message: str) -> None:
        self._reply(status, json.dumps({"error": message}).encode())

    def _reply(self, status: int, body: bytes, content_type: str = "application/json",
               headers: dict | None = None) -> None:
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        lines = [f"HTTP/1.1 {status} {reason}", f"Server: {self.server_version}",
                 f"Date: {self.date_time_string()}", f"Content-Type: {content_type}",
                 f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if status == 401:
            lines.append("WWW-Authenticate: Bearer")
        if self.close_connection:
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's signature
        log.debug("%s %s", self.address_string(), format % args)


class RouterServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000

"""An HTTP proxy in front of a real MLflow server that answers like Azure ML's MLflow tracking server
for the logged-models API (MLflow >= 2.19): 404 with an empty body on every such route
(Azure/azure-sdk-for-python issue #44896), and forwards everything else. It records what it
refused and what it forwarded, with the JSON bodies of the requests it forwarded."""
from __future__ import annotations

import http.client
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOGGED_MODELS = re.compile(r"^/(?:ajax-)?api/[^/]+/mlflow/logged-models(?:[/?]|$)")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
              "content-length", "host"}


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    body: dict | None = None  # the request's JSON body, when it had one


@dataclass
class Traffic:
    refused: list[Seen] = field(default_factory=list)
    forwarded: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, seen: Seen) -> None:
        with self.lock:
            getattr(self, kind).append(seen)


class AzureLikeProxy:
    def __init__(self, upstream_port: int):
        self.traffic = Traffic()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream_port, self.traffic))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> AzureLikeProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


def _handler(upstream_port: int, traffic: Traffic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            body = self._read_body()
            if LOGGED_MODELS.match(self.path):
                traffic.add("refused", Seen(self.command, self.path, _json(body)))
                self._answer(404, [], b"")
                return
            traffic.add("forwarded", Seen(self.command, self.path, _json(body)))
            status, headers, payload = _forward(upstream_port, self.command, self.path, self.headers, body)
            self._answer(status, headers, payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _answer(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    return Handler


def _forward(port: int, method: str, path: str, headers, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        sent = {name: value for name, value in headers.items() if name.lower() not in HOP_BY_HOP}
        connection.request(method, path, body=body if body or method in ("POST", "PUT", "PATCH") else None,
                           headers={**sent, "Host": f"127.0.0.1:{port}"})
        response = connection.getresponse()
        payload = response.read()
        kept = [(name, value) for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP]
        return response.status, kept, payload
    finally:
        connection.close()


def _json(body: bytes) -> dict | None:
    try:
        parsed = json.loads(body) if body[:1] in (b"{", b"[") else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None

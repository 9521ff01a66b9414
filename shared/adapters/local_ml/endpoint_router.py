"""The local online endpoints' router: one HTTP server in front of every deployment's scoring server.

    LOCAL_ENDPOINT_KEY=... python -m shared.adapters.local_ml.endpoint_router --state-dir DIR --port 5001

It answers like an Azure ML managed online endpoint serving MLflow models:

- `POST /endpoints/<endpoint>/score` with `Authorization: Bearer <key>` (401 otherwise) and
  Azure ML's MLflow body `{"input_data": {"columns": [...], "index": [...], "data": [[...]]}}`
  (400 when malformed). The request goes to the deployment named by the
  `azureml-model-deployment` header (404 if unknown; any traffic weight, 0% included), else to
  one picked at random by live traffic weight (503 when no deployment has live traffic); the
  mirror deployment gets a copy of that share of un-named requests, whose answer is ignored.
  The answer is the JSON list of predictions, with the `azureml-model-deployment` response
  header; a failing scoring server gives 502.
- `GET /health` → 200.

Routing state is `<state-dir>/<endpoint>/endpoint.json` (written by `LocalOnlineEndpoints`),
re-read when the file changes. Connections to the scoring servers are kept alive and reused.
Standard library only; keys and request bodies are never logged.
"""
from __future__ import annotations

import argparse
import csv
import io
import hmac
import http.client
import json
import logging
import os
import random
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

log = logging.getLogger("endpoint_router")

DEPLOYMENT_HEADER = "azureml-model-deployment"
STATE_FILE = "endpoint.json"
KEY_ENV = "LOCAL_ENDPOINT_KEY"
MAX_BODY_BYTES = 64 * 1024 * 1024
# A state file modified less than this long before it was read may change again without its
# mtime changing (coarse file timestamps): it is re-read until it is older than that.
RACY_SECONDS = 0.05
MAX_IDLE_CONNECTIONS = 32
MAX_MIRRORS_IN_FLIGHT = 16
NO_ROUTE = ("no valid deployments to route to: give at least one deployment a positive traffic "
            f"weight, or name one with the {DEPLOYMENT_HEADER} header")


class RequestError(Exception):
    """A request the router refuses: HTTP status and a message safe to show."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# ------------------------------------------------------------------------ routing state


@dataclass(frozen=True)
class Routes:
    """One endpoint's routing table, built from its endpoint.json."""

    ports: dict  # deployment → port (None while it has no server)
    live_names: tuple
    live_weights: tuple
    mirror: tuple | None  # (deployment, percent)

    @classmethod
    def from_state(cls, state: dict) -> "Routes":
        deployments = state.get("deployments", {})
        live = [(name, p) for name, p in state.get("traffic", {}).items() if p > 0 and name in deployments]
        mirror = [(name, p) for name, p in state.get("mirror_traffic", {}).items() if p > 0 and name in deployments]
        return cls(
            ports={name: entry.get("port") for name, entry in deployments.items()},
            live_names=tuple(name for name, _ in live),
            live_weights=tuple(p for _, p in live),
            mirror=mirror[0] if mirror else None,
        )

    def pick(self) -> str | None:
        if not self.live_names:
            return None
        if len(self.live_names) == 1:
            return self.live_names[0]
        return random.choices(self.live_names, weights=self.live_weights)[0]

    def mirror_target(self) -> str | None:
        if self.mirror and random.random() * 100 < self.mirror[1]:
            return self.mirror[0]
        return None


@dataclass(frozen=True)
class _Cached:
    stat_key: tuple
    trusted: bool  # read long enough after its last change that a new change shows in the stat
    routes: Routes


class RoutingTable:
    """Endpoint name → Routes, re-read when the endpoint's state file changes (one stat per request)."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self._cache: dict[str, _Cached] = {}

    def routes(self, endpoint: str) -> Routes | None:
        if not _safe_name(endpoint):
            return None
        path = self.state_dir / endpoint / STATE_FILE
        now = time.time()
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            self._cache.pop(endpoint, None)
            return None
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size, stat.st_ctime_ns)
        cached = self._cache.get(endpoint)
        if cached is not None and cached.stat_key == key and cached.trusted:
            return cached.routes
        try:
            routes = Routes.from_state(json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, AttributeError, TypeError) as error:
            log.error("endpoint %s: unreadable state file (%s); keeping the previous routes", endpoint, error)
            return cached.routes if cached else None
        self._cache[endpoint] = _Cached(key, now - stat.st_mtime > RACY_SECONDS, routes)
        if cached is None or cached.routes != routes:
            log.info("endpoint %s: live %s, mirror %s", endpoint,
                     dict(zip(routes.live_names, routes.live_weights)), routes.mirror)
        return routes


def _safe_name(name: str) -> bool:
    return 0 < len(name) <= 64 and name[0].isalpha() and all(c.isalnum() or c == "-" for c in name) and name.isascii()


# ------------------------------------------------------------------- scoring servers


class BackendPool:
    """Kept-alive HTTP connections to the scoring servers, shared by all request threads."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._idle: dict[int, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def post(self, port: int, body: bytes) -> tuple[int, str, bytes]:
        """POST /invocations; (status, content type, body). Raises OSError/HTTPException on failure."""
        for attempt in (1, 2):
            connection, reused = self._take(port)
            try:
                connection.request("POST", "/invocations", body=body,
                                   headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                data = response.read()
            except (ConnectionError, http.client.BadStatusLine):
                connection.close()
                if reused and attempt == 1:  # the server closed an idle kept-alive connection
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            if response.will_close:
                connection.close()
            else:
                self._give(port, connection)
            return response.status, response.getheader("Content-Type", ""), data
        raise AssertionError("unreachable")

    def _take(self, port: int) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(port)
            if idle:
                return idle.pop(), True
        return http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout), False

    def _give(self, port: int, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(port, [])
            if len(idle) < MAX_IDLE_CONNECTIONS:
                idle.append(connection)
                return
        connection.close()


# ------------------------------------------------------------------------ the router


class InputCapture:
    """Keeps the inputs of live traffic per deployment (as Azure ML's data collector does), as
    `<endpoint>/captures/<deployment>.csv`: one writer thread, off the request's path."""

    MAX_BYTES = 256 * 1024 * 1024

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="capture")

    def record(self, endpoint: str, deployment: str, payload: bytes) -> None:
        self._writer.submit(self._append, endpoint, deployment, payload)

    def _append(self, endpoint: str, deployment: str, payload: bytes) -> None:
        try:
            split = json.loads(payload)["dataframe_split"]
            path = self.state_dir / endpoint / "captures" / f"{deployment}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and path.stat().st_size > self.MAX_BYTES:
                return
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            if not path.exists():
                writer.writerow(split["columns"])
            writer.writerows(split["data"])
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(out.getvalue())
        except Exception:  # noqa: BLE001 - capture is best effort, never a scoring failure
            log.warning("endpoint %s: could not capture inputs of %s", endpoint, deployment)


class Router:
    """Turns a scoring request into the answer of one deployment (and maybe a mirrored copy)."""

    def __init__(self, state_dir: Path, key: str, backend_timeout: float = 60.0):
        self.capture = InputCapture(state_dir)
        self.table = RoutingTable(state_dir)
        self.backends = BackendPool(backend_timeout)
        self._key = key.encode()
        self._mirrors = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mirror")
        self._mirror_slots = threading.BoundedSemaphore(MAX_MIRRORS_IN_FLIGHT)

    def authorized(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        return hmac.compare_digest(authorization[len("Bearer "):].strip().encode(), self._key)

    def score(self, endpoint: str, named: str | None, body: bytes) -> tuple[int, bytes, str, str | None]:
        """(status, JSON body, content type, deployment that answered)."""
        routes = self.table.routes(endpoint)
        if routes is None:
            raise RequestError(404, f"endpoint {endpoint!r} not found")
        payload = to_mlflow_request(body)
        if named:
            if named not in routes.ports:
                raise RequestError(404, f"deployment {named!r} not found on endpoint {endpoint!r}")
            deployment = named
        else:
            deployment = routes.pick()
            if deployment is None:
                raise RequestError(503, NO_ROUTE)
            mirror = routes.mirror_target()
            if mirror is not None:
                self._mirror(endpoint, mirror, routes.ports.get(mirror), payload)
        status, data, content_type = self._forward(endpoint, deployment, routes.ports.get(deployment), payload)
        if status == 200 and not named:
            self.capture.record(endpoint, deployment, payload)
        return status, data, content_type, deployment

    def _forward(self, endpoint: str, deployment: str, port: int | None, payload: bytes) -> tuple[int, bytes, str]:
        where = f"deployment {deployment!r} of endpoint {endpoint!r}"
        if not port:
            raise RequestError(503, f"{where} has no running scoring server yet")
        try:
            status, content_type, data = self.backends.post(port, payload)
        except TimeoutError:
            raise RequestError(502, f"{where} did not answer within {self.backends.timeout:.0f}s") from None
        except (OSError, http.client.HTTPException) as error:
            raise RequestError(502, f"{where} is not reachable ({error.__class__.__name__})") from None
        if status == 200:
            return 200, unwrap_predictions(data), "application/json"
        if 400 <= status < 500:  # MLflow's own complaint about the input: passed on
            return status, data, content_type or "application/json"
        raise RequestError(502, f"{where} failed with status {status}: {_short_message(data)}")

    def _mirror(self, endpoint: str, deployment: str, port: int | None, payload: bytes) -> None:
        if not port or not self._mirror_slots.acquire(blocking=False):
            return  # best effort, as on Azure: a busy or missing mirror target loses the copy

        def send() -> None:
            try:
                status, _, _ = self.backends.post(port, payload)
                if status != 200:
                    log.warning("endpoint %s: mirror deployment %s answered %d", endpoint, deployment, status)
            except (OSError, http.client.HTTPException) as error:
                log.warning("endpoint %s: mirror deployment %s failed (%s)", endpoint, deployment,
                            error.__class__.__name__)
            finally:
                self._mirror_slots.release()

        self._mirrors.submit(send)


def to_mlflow_request(body: bytes) -> bytes:
    """Azure ML's `{"input_data": {"columns", "index", "data"}}` as MLflow's `{"dataframe_split": ...}`."""
    shape = 'expected {"input_data": {"columns": [...], "index": [...], "data": [[...], ...]}}'
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RequestError(400, f"the request body is not valid JSON; {shape}") from None
    if not isinstance(document, dict) or not isinstance(document.get("input_data"), dict):
        raise RequestError(400, f"the request body has no 'input_data' object; {shape}")
    data = document["input_data"]
    columns, rows = data.get("columns"), data.get("data")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise RequestError(400, "input_data.columns must be a list of column names")
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise RequestError(400, "input_data.data must be a list of rows (lists of values)")
    for number, row in enumerate(rows):
        if len(row) != len(columns):
            raise RequestError(400, f"input_data.data row {number} has {len(row)} values for {len(columns)} columns")
    split = {"columns": columns, "data": rows}
    if "index" in data:
        index = data["index"]
        if not isinstance(index, list) or len(index) != len(rows):
            raise RequestError(400, f"input_data.index must be a list of {len(rows)} labels, one per row")
        split["index"] = index
    return json.dumps({"dataframe_split": split}).encode()


def unwrap_predictions(data: bytes) -> bytes:
    """MLflow's `{"predictions": [...]}` → the bare list, as Azure ML answers for MLflow models."""
    try:
        document = json.loads(data)
    except ValueError:
        return data
    if isinstance(document, dict) and "predictions" in document:
        return json.dumps(document["predictions"]).encode()
    return data


def _short_message(data: bytes) -> str:
    try:
        document = json.loads(data)
        text = document.get("message") or document.get("error") if isinstance(document, dict) else None
    except ValueError:
        text = None
    return (str(text) if text else data.decode("utf-8", errors="replace")).strip()[:200] or "(no message)"


# ------------------------------------------------------------------------- HTTP layer


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


def make_server(state_dir: Path, key: str, port: int, host: str = "127.0.0.1",
                backend_timeout: float = 60.0) -> RouterServer:
    """A router server bound to host:port (port 0: any free port); call serve_forever()."""
    handler = type("BoundRouterHandler", (RouterHandler,), {"router": Router(state_dir, key, backend_timeout)})
    return RouterServer((host, port), handler)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local online endpoints' router (Azure ML managed online endpoint).")
    parser.add_argument("--state-dir", required=True, help="the endpoints' state folder (LocalOnlineEndpoints)")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--backend-timeout", type=float, default=60.0, help="seconds to wait for a scoring server")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    key = os.environ.get(KEY_ENV, "")
    if not key:
        print(f"endpoint_router: error: set {KEY_ENV} to the endpoint key", file=sys.stderr)
        return 2
    state_dir = Path(args.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    server = make_server(state_dir, key, args.port, args.host, args.backend_timeout)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    log.info("routing endpoints in %s on http://%s:%d", state_dir, args.host, server.server_address[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

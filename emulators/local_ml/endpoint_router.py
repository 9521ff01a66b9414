"""The local online endpoints' router: one HTTP server in front of every deployment's scoring server.

    LOCAL_ENDPOINT_KEY=... python -m emulators.local_ml.endpoint_router --state-dir DIR --port 5001

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

Routing state is each endpoint's endpoint.json (`emulator_formats.endpoint_state`, written by
the app's local endpoint adapter), re-read when the file changes (`routing_table`). Connections
to the scoring servers are kept alive and reused (`backend_pool`); the inputs of live traffic are
kept per deployment (`input_capture`). Standard library only; keys and request bodies are never
logged.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from emulators.local_ml.http_handler import RouterHandler, RouterServer
from emulators.local_ml.scoring import Router

log = logging.getLogger("endpoint_router")

KEY_ENV = "LOCAL_ENDPOINT_KEY"


def make_server(state_dir: Path, key: str, port: int, host: str = "127.0.0.1",
                backend_timeout: float = 60.0) -> RouterServer:
    """A router server bound to host:port (port 0: any free port); call serve_forever()."""
    handler = type("BoundRouterHandler", (RouterHandler,), {"router": Router(state_dir, key, backend_timeout)})
    return RouterServer((host, port), handler)


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

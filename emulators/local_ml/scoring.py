"""A scoring request's way through the router: key check, deployment choice, forward, mirror, capture."""
from __future__ import annotations

import hmac
import http.client
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from emulators.local_ml.backend_pool import BackendPool
from emulators.local_ml.input_capture import InputCapture
from emulators.local_ml.payloads import RequestError, short_message, to_mlflow_request, unwrap_predictions
from emulators.local_ml.routing_table import RoutingTable

log = logging.getLogger("endpoint_router")

DEPLOYMENT_HEADER = "azureml-model-deployment"
MAX_MIRRORS_IN_FLIGHT = 16
NO_ROUTE = ("no valid deployments to route to: give at least one deployment a positive traffic "
            f"weight, or name one with the {DEPLOYMENT_HEADER} header")


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
        """The `Authorization: Bearer <key>` header carries the endpoint key (constant-time check)."""
        if not authorization or not authorization.startswith("Bearer "):
            return False
        return hmac.compare_digest(authorization[len("Bearer "):].strip().encode(), self._key)

    def score(self, endpoint: str, named: str | None, body: bytes) -> tuple[int, bytes, str, str | None]:
        """(status, JSON body, content type, deployment that answered); RequestError when refused."""
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
        raise RequestError(502, f"{where} failed with status {status}: {short_message(data)}")

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

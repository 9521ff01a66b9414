"""Long-running operations as Azure ML answers them: the PUT/DELETE/POST answers with
Azure-AsyncOperation (…/locations/{loc}/mfeOperationsStatus/{id}) and Location
(…/mfeOperationResults/{id}) headers, a worker thread does the work, and the two operation
resources report it (status InProgress → Succeeded | Failed with ARM's error).

Shape: common-types OperationStatusResult / Azure-AsyncOperation (ARM's RPC for asynchronous
operations): {"id","name","status","startTime","endTime","error"}."""
from __future__ import annotations

import logging
import math
import threading
import uuid
from typing import Any, Callable

from emulators.azure.http import HttpError, Request, Response, Router

from .common import PROVIDER, base_url, now
from .apiversions import check_api_version

log = logging.getLogger("azure_emulator.arm")

Work = Callable[[], "dict[str, Any] | None"]  # does the work; returns ARM's error body when it failed
OPS = (r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.MachineLearningServices/locations/(?P<loc>[^/]+)"
       r"/(?P<kind>mfeOperationsStatus|mfeOperationResults)/(?P<op>[^/]+)")


class Operations:
    """The operations started since the emulator began (kept: a client may poll late)."""

    def __init__(self, config):
        self.config = config
        self._ops: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    @property
    def duration(self) -> float:
        """How long every operation stays InProgress at least (scaled time)."""
        return self.config.lro_seconds * self.config.time_scale

    def start(self, request: Request, prefix: str, work: Work) -> dict[str, str]:
        """Run `work` in a thread; returns the headers the answer carries."""
        op_id = f"{prefix}:{uuid.uuid4()}:{uuid.uuid4().hex[:8]}"
        with self._lock:
            self._ops[op_id] = {"status": "InProgress", "startTime": now()}
        threading.Thread(target=self._run, args=(op_id, work), name=f"lro-{prefix}", daemon=True).start()
        return self.headers(request, op_id)

    def headers(self, request: Request, op_id: str) -> dict[str, str]:
        root = (f"{base_url(request)}/subscriptions/{self.config.subscription_id}/providers/{PROVIDER}"
                f"/locations/{self.config.location}")
        version = request.api_version
        return {"Azure-AsyncOperation": f"{root}/mfeOperationsStatus/{op_id}?api-version={version}",
                "Location": f"{root}/mfeOperationResults/{op_id}?api-version={version}",
                "Retry-After": str(max(1, math.ceil(self.duration))),
                "x-ms-async-operation-timeout": "PT1H"}

    def _run(self, op_id: str, work: Work) -> None:
        try:
            error = work()
        except Exception:  # noqa: BLE001 - the operation fails as Azure's would, the log keeps the trace
            log.exception("operation %s failed", op_id)
            error = {"code": "InternalServerError", "message": "The operation failed in the emulator; see its log."}
        with self._lock:
            self._ops[op_id].update(status="Failed" if error else "Succeeded", endTime=now(),
                                    **({"error": error} if error else {}))

    def get(self, op_id: str) -> dict[str, Any] | None:
        with self._lock:
            op = self._ops.get(op_id)
            return dict(op) if op else None

    def in_progress(self) -> int:
        with self._lock:
            return sum(1 for op in self._ops.values() if op["status"] == "InProgress")

    def register(self, router: Router) -> None:
        router.route("GET", OPS, self._answer)

    def _answer(self, request: Request) -> Response:
        check_api_version(request, f"{PROVIDER}/locations/{request.params['kind']}", self.config.location)
        op_id = request.params["op"]
        op = self.get(op_id)
        if op is None or request.params["sub"].lower() != self.config.subscription_id.lower():
            raise HttpError(404, "NotFound", f"The operation '{op_id}' was not found.")
        if request.params["kind"].lower() == "mfeoperationsstatus":
            return Response(200, {"id": request.path, "name": op_id, **op})
        if op["status"] == "InProgress":
            headers = self.headers(request, op_id)
            return Response(202, None, {"Location": headers["Location"], "Retry-After": headers["Retry-After"]})
        if op["status"] == "Failed":
            return HttpError(400, op["error"].get("code", "Failed"), op["error"].get("message", "")).response()
        return Response(200, None)

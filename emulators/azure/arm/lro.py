"""Long-running operations as Azure ML answers them: the PUT/DELETE/POST answers with
Azure-AsyncOperation (…/locations/{loc}/mfeOperationsStatus/{id}) and Location
(…/mfeOperationResults/{id}) headers, a worker thread does the work, and the two operation
resources report it (status InProgress → Succeeded | Failed with ARM's error).

Shape: common-types OperationStatusResult / Azure-AsyncOperation (ARM's RPC for asynchronous
operations): {"id","name","status","startTime","endTime","error"}.

Every answer about an operation in progress carries Retry-After (whole seconds, as ARM sends it):
the time it has left, at least 1. azure-core (base_polling._extract_delay) waits the Retry-After
of the last answer it read and, when there is none or it is 0, its polling_interval: 5 s for
azure-ai-ml's create/update pollers (LROConfigurations.POLL_INTERVAL), 30 s for the others (the
generated client's default). Finished operations are forgotten after a while (bounded memory)."""
from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from typing import Any, Callable

from emulators.azure.http import HttpError, Request, Response, Router

from .common import PROVIDER, base_url, now
from .apiversions import check_api_version

log = logging.getLogger("azure_emulator.arm")

Work = Callable[[], "dict[str, Any] | None"]  # does the work; returns ARM's error body when it failed
RETENTION_SECONDS = 3600.0  # a finished operation can still be polled this long
MAX_FINISHED = 1000  # and at most this many are kept
OPS = (r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.MachineLearningServices/locations/(?P<loc>[^/]+)"
       r"/(?P<kind>mfeOperationsStatus|mfeOperationResults)/(?P<op>[^/]+)")


class Operations:
    """The operations in progress and those finished recently (a client may poll late)."""

    def __init__(self, config, retention_seconds: float = RETENTION_SECONDS, max_finished: int = MAX_FINISHED):
        self.config = config
        self.retention_seconds, self.max_finished = retention_seconds, max_finished
        self._ops: dict[str, dict[str, Any]] = {}
        self._times: dict[str, tuple[float, float | None]] = {}  # op id → (started, ended), monotonic
        self._lock = threading.Lock()

    @property
    def duration(self) -> float:
        """How long every operation stays InProgress at least (scaled time)."""
        return self.config.lro_seconds * self.config.time_scale

    def start(self, request: Request, prefix: str, work: Work) -> dict[str, str]:
        """Run `work` in a thread; returns the headers the answer carries."""
        op_id = f"{prefix}:{uuid.uuid4()}:{uuid.uuid4().hex[:8]}"
        with self._lock:
            self._prune()
            self._ops[op_id] = {"status": "InProgress", "startTime": now()}
            self._times[op_id] = (time.monotonic(), None)
        threading.Thread(target=self._run, args=(op_id, work), name=f"lro-{prefix}", daemon=True).start()
        return self.headers(request, op_id)

    def headers(self, request: Request, op_id: str) -> dict[str, str]:
        root = (f"{base_url(request)}/subscriptions/{self.config.subscription_id}/providers/{PROVIDER}"
                f"/locations/{self.config.location}")
        version = request.api_version
        return {"Azure-AsyncOperation": f"{root}/mfeOperationsStatus/{op_id}?api-version={version}",
                "Location": f"{root}/mfeOperationResults/{op_id}?api-version={version}",
                "Retry-After": self.retry_after(op_id),
                "x-ms-async-operation-timeout": "PT1H"}

    def retry_after(self, op_id: str) -> str:
        """Whole seconds the operation has left, at least 1 (0 would make azure-core wait 5-30 s)."""
        with self._lock:
            started = self._times.get(op_id, (time.monotonic(), None))[0]
        return str(max(1, math.ceil(started + self.duration - time.monotonic())))

    def _prune(self) -> None:
        """Forget finished operations older than the retention, and the oldest beyond max_finished."""
        finished = sorted((ended, op_id) for op_id, (_, ended) in self._times.items() if ended is not None)
        horizon = time.monotonic() - self.retention_seconds
        drop = [op_id for ended, op_id in finished if ended < horizon]
        kept = [op_id for ended, op_id in finished if ended >= horizon]
        drop += kept[:max(0, len(kept) - self.max_finished)]
        for op_id in drop:
            self._ops.pop(op_id, None)
            self._times.pop(op_id, None)

    def _run(self, op_id: str, work: Work) -> None:
        try:
            error = work()
        except Exception:  # noqa: BLE001 - the operation fails as Azure's would, the log keeps the trace
            log.exception("operation %s failed", op_id)
            error = {"code": "InternalServerError", "message": "The operation failed in the emulator; see its log."}
        with self._lock:
            self._ops[op_id].update(status="Failed" if error else "Succeeded", endTime=now(),
                                    **({"error": error} if error else {}))
            self._times[op_id] = (self._times[op_id][0], time.monotonic())

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
        waiting = {"Retry-After": self.retry_after(op_id)} if op["status"] == "InProgress" else {}
        if request.params["kind"].lower() == "mfeoperationsstatus":
            return Response(200, {"id": request.path, "name": op_id, **op}, waiting)
        if op["status"] == "InProgress":
            return Response(202, None, {"Location": self.headers(request, op_id)["Location"], **waiting})
        if op["status"] == "Failed":
            return HttpError(400, op["error"].get("code", "Failed"), op["error"].get("message", "")).response()
        return Response(200, None)

"""ARM's jobs routes of the workspace: PUT / GET .../jobs/{name}, GET .../jobs (list) and
POST .../jobs/{name}/cancel (202, a long-running operation: Azure-AsyncOperation + Location, it
succeeds when the job has reached Canceled or another final status). Shapes: mfe.json JobBase /
CommandJob / JobService, examples Job/CommandJob/*.json and Job/cancel.json (see SPECS.md).

Also the job's "studio" page on the control API, GET /_emulator/jobs/{name} (status, statuses,
error, the log's tail) and /_emulator/jobs/{name}/std_log.txt: the job's services.Studio endpoint.
"""
from __future__ import annotations

import time
from typing import Any

from emulators.azure.arm.common import NAME, PROVIDER, WS, body_properties, checked, not_found, page, system_data
from emulators.azure.arm.workspace import mlflow_tracking_uri
from emulators.azure.http import HttpError, Request, Response, Router

from . import definition
from .runner import Runner

JOB_TYPE = f"{PROVIDER}/workspaces/jobs"
CANCEL_WAIT_SECONDS = 60.0
LOG_TAIL_CHARS = 4000


class JobRoutes:
    """The handlers, over the resource store and the runner."""

    def __init__(self, context, runner: Runner):
        self.context, self.config, self.store, self.runner = context, context.config, context.store, runner

    def job_id(self, name: str) -> str:
        return f"{self.config.workspace_id}/jobs/{name}"

    def services(self, name: str) -> dict[str, Any]:
        def service(kind: str, endpoint: str) -> dict[str, Any]:
            return {"jobServiceType": kind, "port": None, "endpoint": endpoint, "status": None,
                    "errorMessage": None, "properties": None, "nodes": None}

        return {"Tracking": service("Tracking", mlflow_tracking_uri(self.config)),
                "Studio": service("Studio", f"{self.config.base_url}/_emulator/jobs/{name}"
                                                  f"?wsid={self.config.workspace_id}")}

    # ------------------------------------------------------------------- ARM
    def put(self, request: Request) -> Response:
        checked(request, self.config, JOB_TYPE)
        name = request.params["name"]
        definition.check_name(name)
        sent = body_properties(request)
        definition.check_properties(name, sent.get("properties") or {}, self.store)
        job_id = self.job_id(name)
        with self.store.lock:
            existing = self.store.get(job_id)
            if existing is not None:
                if not definition.same_definition(existing, sent):
                    raise definition.conflict(name)
                stored = self.store.update(job_id, lambda body: definition.apply_mutable(body, sent))
                return Response(200, stored)
            stored = self.store.put(job_id, definition.new_body(job_id, name, sent, system_data(request),
                                                                self.services(name)))
        self.runner.start(job_id, name)
        return Response(201, stored)

    def get(self, request: Request) -> Response:
        checked(request, self.config, JOB_TYPE)
        return Response(200, self._find(request.params["name"]))

    def list(self, request: Request) -> Response:
        checked(request, self.config, JOB_TYPE)
        view = request.query.get("listViewType", "ActiveOnly").lower()
        job_type = request.query.get("jobType", "").lower()
        items = []
        for job in self.store.children(f"{self.config.workspace_id}/jobs"):
            archived = bool(job["properties"].get("isArchived"))
            if (view == "activeonly" and archived) or (view == "archivedonly" and not archived):
                continue
            if job_type and str(job["properties"].get("jobType", "")).lower() != job_type:
                continue
            items.append(job)
        items.sort(key=lambda j: j["systemData"]["createdAt"], reverse=True)
        return page(items)

    def cancel(self, request: Request) -> Response:
        checked(request, self.config, JOB_TYPE)
        name = self._find(request.params["name"])["name"]
        self.runner.request_cancel(name)
        operations = self.context.extras.get("arm_operations")
        if operations is None:  # ARM's operations are not there: the job itself is the Location (as the example)
            return Response(202, None, {"Location": f"{self.config.base_url}{self.job_id(name)}"
                                                    f"?api-version={request.api_version}"})
        return Response(202, None, operations.start(request, f"jobcancel:{name}", lambda: self._cancelled(name)))

    def _cancelled(self, name: str) -> dict[str, Any] | None:
        """The cancel operation's work: wait for the job to end; ARM's error when it does not."""
        run = self.runner.get(name)
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while run is not None and not run.done.wait(0.1):
            if time.monotonic() > deadline:
                return {"code": "JobCancelTimeout", "message": f"Job {name} did not stop after the cancel."}
        return None

    def _find(self, name: str) -> dict[str, Any]:
        job = self.store.get(self.job_id(name))
        if job is None:
            raise not_found("Job", name, self.config, jobName=name)
        return job

    # ------------------------------------------------------- control ("studio")
    def studio(self, request: Request) -> Response:
        name = request.params["name"]
        job = self._find(name)
        run = self.runner.get(name)
        log_text = run.log_file.read_text(errors="replace") if run and run.log_file.exists() else ""
        return Response(200, {
            "name": job["name"], "status": job["properties"]["status"],
            "experimentName": job["properties"].get("experimentName"),
            "statuses": list(run.statuses) if run else [], "error": run.error if run else "",
            "exitCode": run.exit_code if run else None, "logFile": str(run.log_file) if run else None,
            "logTail": log_text[-LOG_TAIL_CHARS:],
        })

    def studio_log(self, request: Request) -> Response:
        run = self.runner.get(request.params["name"])
        if run is None or not run.log_file.exists():
            raise HttpError(404, "NotFound", f"Job {request.params['name']} has no log.")
        return Response(200, run.log_file.read_bytes(), content_type="text/plain; charset=utf-8")


def register_routes(router: Router, routes: JobRoutes) -> None:
    router.route("GET", WS + r"/jobs/?", routes.list)
    router.route("POST", WS + f"/jobs/{NAME}/cancel", routes.cancel)
    router.route("GET", WS + f"/jobs/{NAME}", routes.get)
    router.route("PUT", WS + f"/jobs/{NAME}", routes.put)
    router.route("GET", r"/_emulator/jobs/(?P<name>[^/]+)/std_log\.txt", routes.studio_log)
    router.route("GET", r"/_emulator/jobs/(?P<name>[^/]+)/?", routes.studio)

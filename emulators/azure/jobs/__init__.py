"""Command jobs in the loopback emulator: ARM's jobs routes (PUT, GET, list, cancel) and the
runner that runs each job's command as a real process (train.py in the training environment),
with Azure ML's statuses and run events. See SPECS.md for the shapes it follows."""
from __future__ import annotations

from typing import Any

from emulators.azure.http import Router

from .routes import JobRoutes, register_routes
from .runner import Runner


def register(router: Router, context) -> None:
    """Add the jobs routes; `context.extras["jobs"]` is the runner (state, stop)."""
    runner = Runner(context)
    register_routes(router, JobRoutes(context, runner))
    context.extras["jobs"] = runner
    for name, hook in (("health", lambda: True), ("state", lambda: state(context, runner)), ("stop", runner.stop)):
        hooks = context.extras.get(name)
        if isinstance(hooks, dict):
            hooks["jobs"] = hook


def state(context, runner: Runner) -> dict[str, Any]:
    """What /_emulator/state shows of jobs: each job's status and the ones still going."""
    jobs = context.store.children(f"{context.config.workspace_id}/jobs")
    return {"jobs": {job["name"]: job["properties"]["status"] for job in jobs}, "active": runner.active()}

"""ARM for Azure ML in the loopback emulator: cloud metadata, the workspace, datastores, code /
data / environment assets, online endpoints and deployments with their long-running operations.
Jobs (H3) and models (H4) register their own routes under the same workspace path."""
from __future__ import annotations

from typing import Any

from emulators.azure.http import Router

from . import assets, deployments, endpoints, metadata, uploads, workspace
from .lro import Operations


def register(router: Router, context) -> None:
    """Add the ARM routes to `router`; `context.extras["arm"]` gives the others a summary."""
    operations = Operations(context.config)
    operations.register(router)
    context.extras["arm_operations"] = operations  # jobs (H3) run their cancel as one of these
    metadata.register(router, context)
    workspace.register(router, context)
    uploads.register(router, context)  # before assets: its path is longer, the router takes the first match
    assets.register(router, context)
    online = endpoints.register(router, context, operations)
    deployments.register(router, context, operations, online)
    summary = Summary(context, online, operations)
    context.extras["arm"] = summary
    context.extras.setdefault("state", {})["arm"] = summary.state  # /_emulator/state: endpoints, traffic, LROs


class Summary:
    """What /_emulator/state shows of ARM: endpoints, their traffic, deployments and states."""

    def __init__(self, context, online: endpoints.Endpoints, operations: Operations):
        self._context, self._online, self._operations = context, online, operations

    def state(self) -> dict[str, Any]:
        result = {}
        for body in self._context.store.children(f"{self._context.config.workspace_id}/onlineEndpoints"):
            name = body["name"]
            result[name] = {
                "provisioningState": body["properties"]["provisioningState"],
                "traffic": body["properties"].get("traffic") or {},
                "mirrorTraffic": body["properties"].get("mirrorTraffic") or {},
                "deployments": {d["name"]: d["properties"]["provisioningState"]
                                for d in self._online.deployments(name)},
            }
        return {"endpoints": result, "operations_in_progress": self._operations.in_progress()}

"""Online endpoints' data plane: one MLflow scoring server per deployment (the ScoringHost the
ARM deployment operations drive), the scoring front on each endpoint's scoring URI host and
Azure ML's data collector.

`register` sets `context.scoring` (the ScoringHost) and `context.extras["online"]` (the same
object), and adds the part's entries to the backbone's `extras["state"]` (its `state()`, the
summary /_emulator/state shows), `extras["stop"]` (its `close()`: every scoring server stopped,
the collector flushed) and `extras["health"]`.
"""
from __future__ import annotations

import atexit
import os

from emulators.azure.context import Context
from emulators.azure.http import Router
from emulators.azure.online.collector import DataCollector
from emulators.azure.online.front import DEPLOYMENT_HEADER, ScoringFront, scoring_host_pattern
from emulators.azure.online.host import ScoringHost

__all__ = ["DEPLOYMENT_HEADER", "OnlineEndpoints", "register", "scoring_host_pattern"]


class OnlineEndpoints(ScoringHost):
    """The ScoringHost with its scoring front and data collector (what `register` installs)."""

    def __init__(self, context: Context):
        config = context.config
        super().__init__(config.training_python, config.mlflow_backing_url, config.root / "online")
        self.collector = DataCollector(context.blob_service, config.workspace_container)
        self.front = ScoringFront(self, self.collector, config.location, config.workspace_id)

    def state(self) -> dict:
        summary = super().state()
        summary["data_collector"] = {"lines_written": self.collector.written, "failed": self.collector.failed}
        summary["mirror_copies_sent"] = self.front.mirrors_sent
        return summary

    def healthy(self) -> bool:
        """The part can start scoring servers: the training environment's python is there."""
        return self.python.is_file() and os.access(self.python, os.X_OK)

    def close(self) -> None:
        super().close()
        self.front.close()
        self.collector.close()


def register(router: Router, context: Context) -> OnlineEndpoints:
    """Install the ScoringHost in `context` and route POST /score on the scoring URIs' host."""
    online = OnlineEndpoints(context)
    context.scoring = online
    context.extras["online"] = online
    router.route("POST", "/score", online.front.score, host=scoring_host_pattern(context.config.location))
    context.extras.setdefault("state", {})["online"] = online.state
    context.extras.setdefault("stop", {})["online"] = online.close
    context.extras.setdefault("health", {})["online"] = online.healthy
    atexit.register(online.close)  # a safety net: the backbone's stop calls close() first
    return online

"""Where a scoring request goes: each endpoint's routes, from its state file, and the pick by weight."""
from __future__ import annotations

import json
import logging
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

from emulator_formats import endpoint_state

log = logging.getLogger("endpoint_router")

# A state file modified less than this long before it was read may change again without its
# mtime changing (coarse file timestamps): it is re-read until it is older than that.
RACY_SECONDS = 0.05


@dataclass(frozen=True)
class Routes:
    """One endpoint's routing table, built from its endpoint.json."""

    ports: dict  # deployment → port (None while it has no server)
    live_names: tuple
    live_weights: tuple
    mirror: tuple | None  # (deployment, percent)

    @classmethod
    def from_state(cls, state: dict) -> "Routes":
        routing = endpoint_state.routing(state)
        return cls(
            ports=routing.ports,
            live_names=tuple(routing.live),
            live_weights=tuple(routing.live.values()),
            mirror=routing.mirror,
        )

    def pick(self) -> str | None:
        """A deployment with live traffic, at random by weight; None when there is none."""
        if not self.live_names:
            return None
        if len(self.live_names) == 1:
            return self.live_names[0]
        return random.choices(self.live_names, weights=self.live_weights)[0]

    def mirror_target(self) -> str | None:
        """The mirror deployment for this request's copy, drawn at its percent; else None."""
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
        if not safe_name(endpoint):
            return None
        path = endpoint_state.state_file(self.state_dir, endpoint)
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


def safe_name(name: str) -> bool:
    """An endpoint name that can be a folder name (letters, digits, dashes; a letter first)."""
    return 0 < len(name) <= 64 and name[0].isalpha() and all(c.isalnum() or c == "-" for c in name) and name.isascii()

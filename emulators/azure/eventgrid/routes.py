"""Control routes of Event Grid (under /_emulator, no token needed):
    GET  /_emulator/eventgrid                          the state summary
    GET  /_emulator/eventgrid/subscriptions            the subscriptions (keys masked)
    POST /_emulator/eventgrid/subscriptions/{name}/create   run its creation again (the handshake), wait
    POST /_emulator/eventgrid/events                   {"topic", "event"}: publish one event
    POST /_emulator/eventgrid/idle?timeout=<s>         wait until no delivery is pending (200, or 408)
"""
from __future__ import annotations

import math

from emulators.azure.http import HttpError, Request, Response, Router


def register(router: Router, grid) -> None:
    def state(request: Request) -> Response:
        return Response(200, grid.state())

    def listing(request: Request) -> Response:
        return Response(200, {"value": [s.summary() for s in grid.subscriptions.values()]})

    def create(request: Request) -> Response:
        name = request.params["name"]
        if name not in grid.subscriptions:
            raise HttpError(404, "ResourceNotFound", f"The event subscription {name} was not found.")
        grid.create(name, wait_seconds=_seconds(request, "wait"))
        return Response(200, grid.subscriptions[name].summary())

    def publish(request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("topic"), str) or not isinstance(body.get("event"), dict):
            raise HttpError(400, "InvalidRequest", "Send {\"topic\": <resource id>, \"event\": {...}}.")
        grid.publish(body["topic"], body["event"])
        return Response(202, None)

    def idle(request: Request) -> Response:
        done = grid.wait_idle(_seconds(request, "timeout"))
        return Response(200 if done else 408, grid.state())

    router.route("GET", r"/_emulator/eventgrid/?", state)
    router.route("GET", r"/_emulator/eventgrid/subscriptions/?", listing)
    router.route("POST", r"/_emulator/eventgrid/subscriptions/(?P<name>[^/]+)/create", create)
    router.route("POST", r"/_emulator/eventgrid/events/?", publish)
    router.route("POST", r"/_emulator/eventgrid/idle/?", idle)


def _seconds(request: Request, name: str, default: float = 30.0) -> float:
    """A query parameter in seconds (a number ≥ 0); 400 otherwise."""
    text = request.query.get(name)
    try:
        value = default if text is None else float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise HttpError(400, "InvalidRequest", f"The query parameter '{name}' must be a number of seconds, not {text!r}.")
    return value

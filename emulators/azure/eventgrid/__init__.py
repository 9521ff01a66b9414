"""Event Grid (H5): the subscriptions infra/events.bicep deploys, read from the infra files;
`context.events` (publish), deliveries with Event Grid's retries and dead letters in Azurite, a
BlobCreated watcher of the data container, and control routes under /_emulator/eventgrid.

`context.extras["eventgrid"]` is the EventGrid object (pending, delivered, dead_lettered,
wait_idle(timeout)); its summary is in /_emulator/state under "eventgrid"."""
from __future__ import annotations

from emulators.azure.context import Context
from emulators.azure.eventgrid import routes, subscriptions
from emulators.azure.eventgrid.blobwatch import BlobWatcher
from emulators.azure.eventgrid.deadletter import DeadLetterWriter
from emulators.azure.eventgrid.delivery import Deliveries
from emulators.azure.eventgrid.service import EventGrid
from emulators.azure.http import Router


def build(context: Context, watch: bool = True, create: bool = True, parameters: dict | None = None) -> EventGrid:
    """The EventGrid of `context` (its subscriptions being created, the watcher running);
    `parameters` override events.bicep's (e.g. maxDeliveryAttempts)."""
    config = context.config
    grid = EventGrid(subscriptions.load(config, {**config.event_parameters, **(parameters or {})}), Deliveries(config, context.faults, DeadLetterWriter(context.blob_service)))
    if watch:
        grid.watcher = BlobWatcher(config, context.blob_service, grid.publish).start()
        grid.stoppers.append(grid.watcher.stop)
    if create:
        grid.create_subscriptions()
    return grid


def register(router: Router, context: Context) -> None:
    """Install Event Grid as `context.events` with its control routes and background threads."""
    grid = build(context)
    context.events = grid
    context.extras["eventgrid"] = grid
    context.extras.setdefault("state", {})["eventgrid"] = grid.state
    context.extras.setdefault("health", {})["eventgrid"] = lambda: all(t.is_alive() for t in grid.deliveries.threads)
    context.extras.setdefault("stop", {})["eventgrid"] = lambda: [stop() for stop in grid.stoppers]
    routes.register(router, grid)

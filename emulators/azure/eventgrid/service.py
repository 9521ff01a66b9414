"""Event Grid for the emulator's system topics: the subscriptions, `publish` (the parts'
`context.events`), their creation (validation handshakes) and the delivery schedule."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from emulators.azure.eventgrid import deadletter, filters, validation
from emulators.azure.eventgrid.delivery import Deliveries
from emulators.azure.eventgrid.subscriptions import Subscription

log = logging.getLogger("azure_emulator.eventgrid")

HOST_WAIT_SECONDS = 600.0  # how long a WebHook subscription's creation waits for its endpoint to answer


class EventGrid:
    """Publisher and subscriptions; `state()` is what /_emulator/state shows."""

    def __init__(self, subscriptions: list[Subscription], deliveries: Deliveries) -> None:
        self.subscriptions = {s.name: s for s in subscriptions}
        self.deliveries = deliveries
        self.published = 0
        self.unmatched = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.watcher = None  # the BlobCreated watcher, when one runs
        self.stoppers: list = [self.stop]  # what the emulator's stop calls

    def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Queue `event` from `topic` for every subscription of that topic whose filter it passes."""
        event = normalised(topic, event)
        matched = [s for s in self.subscriptions.values()
                   if s.topic.lower() == topic.lower() and filters.matches(event, s.filter)]
        with self._lock:
            self.published += 1
            self.unmatched += not matched
        for subscription in matched:
            self.deliveries.submit(subscription, event)
        log.info("published %s %s → %s", event["eventType"], event["subject"], [s.name for s in matched] or "nobody")

    def create_subscriptions(self, wait_seconds: float = HOST_WAIT_SECONDS) -> None:
        """Provision every subscription (each in its own thread; returns at once)."""
        for subscription in self.subscriptions.values():
            threading.Thread(target=self.create, args=(subscription.name, wait_seconds),
                             name=f"eventgrid-create-{subscription.name}", daemon=True).start()

    def create(self, name: str, wait_seconds: float = HOST_WAIT_SECONDS) -> str:
        """(Re)create one subscription; its provisioningState."""
        subscription = self.subscriptions[name]
        state = validation.create(subscription, wait_seconds, self._stopping.is_set, self.deliveries.send,
                                  update=self.deliveries.set_state)
        self.deliveries.released(subscription)
        return state

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no delivery is scheduled, held or in flight."""
        return self.deliveries.wait_idle(timeout)

    def stop(self) -> None:
        self._stopping.set()
        self.deliveries.stop()

    @property
    def pending(self) -> int:
        return self.deliveries.pending()

    @property
    def delivered(self) -> int:
        return self.deliveries.counts["delivered"]

    @property
    def dead_lettered(self) -> int:
        return self.deliveries.counts["dead_lettered"]

    def state(self) -> dict[str, Any]:
        return {"pending_deliveries": self.pending, "delivered": self.delivered, "dead_letters": self.dead_lettered,
                "published": self.published, "unmatched": self.unmatched, **{
                    k: v for k, v in self.deliveries.counts.items() if k not in ("delivered", "dead_lettered")},
                "dead_letter_blobs": list(self.deliveries.dead_letters),
                "subscriptions": {n: s.state for n, s in self.subscriptions.items()}}


def normalised(topic: str, event: dict[str, Any]) -> dict[str, Any]:
    """The event as Event Grid delivers it: the topic set by Event Grid, the envelope complete."""
    return {"id": str(event.get("id") or uuid.uuid4()), "topic": topic, "subject": str(event.get("subject", "")),
            "data": event.get("data"), "eventType": str(event.get("eventType", "")),
            "dataVersion": str(event.get("dataVersion", "")), "metadataVersion": "1",
            "eventTime": str(event.get("eventTime") or deadletter.timestamp(time.time()))}

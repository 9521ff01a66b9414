"""Delivery of events to subscriptions: worker threads take due attempts from a schedule, POST
one event per request, and retry on Event Grid's schedule (10 s, 30 s, 1 min, 5 min, 10 min,
30 min, 1 h, 3 h, 6 h, then every 12 h; each step a little randomised and multiplied by
config.time_scale) until delivered, the retry policy runs out, or the endpoint answers a code
Event Grid does not retry; then the event is dead-lettered (five minutes × time_scale later, as
Event Grid batches its dead-letter writes) or dropped when the subscription has no dead-letter
container. The time-to-live is checked at each scheduled attempt, as Event Grid does."""
from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from emulators.azure.eventgrid import deadletter, transport
from emulators.azure.eventgrid.subscriptions import Subscription

log = logging.getLogger("azure_emulator.eventgrid")

RETRY_SCHEDULE = (10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200)  # seconds
DEAD_LETTER_DELAY = 300.0
DEAD_LETTER_GIVE_UP = 4 * 3600.0  # a dead-letter container unavailable this long: the event is dropped
FAULT_TIMEOUT_WAIT = 0.05  # a fault's "timed out" attempt: sent, never answered


@dataclass
class Delivery:
    """One event on its way to one subscription."""

    subscription: Subscription
    event: dict[str, Any]
    published: float = field(default_factory=time.time)
    attempts: int = 0
    outcome: str = ""
    status: int | None = None
    last_attempt: float | None = None
    reason: str = ""  # why it is dead-lettered


class Deliveries:
    """The schedule and its workers; counters for the control API."""

    def __init__(self, config, faults, writer: deadletter.DeadLetterWriter, workers: int = 4,
                 send: Callable[..., transport.Result] = transport.post) -> None:
        self.config, self.faults, self.writer, self.send = config, faults, writer, send
        self._due: list[tuple[float, int, str, Delivery]] = []
        self._held: dict[str, list[Delivery]] = {}
        self._order = itertools.count()
        self._busy = 0
        self._cond = threading.Condition()
        self._stopping = False
        self.counts = {"delivered": 0, "attempts": 0, "retries": 0, "dead_lettered": 0, "dropped": 0}
        self.dead_letters: list[str] = []  # blob names written
        self.threads = [threading.Thread(target=self._work, name=f"eventgrid-{i}", daemon=True)
                         for i in range(workers)]
        for thread in self.threads:
            thread.start()

    def submit(self, subscription: Subscription, event: dict[str, Any]) -> None:
        """Deliver `event` to `subscription` now, or once its creation succeeds."""
        delivery = Delivery(subscription, event)
        with self._cond:
            if subscription.state == "Creating":
                self._held.setdefault(subscription.name, []).append(delivery)
            elif subscription.state == "Succeeded":
                self._schedule(0.0, "attempt", delivery)
            else:
                self.counts["dropped"] += 1

    def set_state(self, subscription: Subscription, state: str, failure: str | None = None) -> None:
        """Change a subscription's provisioning state (and failure, unless None) under the lock
        `submit` reads it with."""
        with self._cond:
            subscription.state = state
            if failure is not None:
                subscription.failure = failure

    def released(self, subscription: Subscription) -> None:
        """The subscription's creation ended: its held events are delivered (Succeeded) or dropped."""
        with self._cond:
            held = self._held.pop(subscription.name, [])
            for delivery in held:
                if subscription.state == "Succeeded":
                    self._schedule(0.0, "attempt", delivery)
                else:
                    self.counts["dropped"] += 1
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._due) + self._busy + sum(map(len, self._held.values()))

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is scheduled, held or in flight; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._due or self._busy or any(self._held.values()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def _schedule(self, delay: float, action: str, delivery: Delivery) -> None:
        heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), action, delivery))
        self._cond.notify()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (not self._due or self._due[0][0] > time.monotonic()):
                    self._cond.wait(self._due[0][0] - time.monotonic() if self._due else None)
                if self._stopping:
                    return
                _, _, action, delivery = heapq.heappop(self._due)
                self._busy += 1
            try:
                (self._attempt if action == "attempt" else self._dead_letter)(delivery)
            except Exception:  # noqa: BLE001 - a worker survives a broken delivery
                log.exception("delivery to %s failed", delivery.subscription.name)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, delivery: Delivery) -> None:
        subscription, scale = delivery.subscription, self.config.time_scale
        if delivery.attempts and time.time() - delivery.published > subscription.ttl_minutes * 60 * scale:
            return self._give_up(delivery, deadletter.REASON_TTL)
        result = self._post(delivery)
        with self._cond:
            delivery.attempts += 1
            delivery.last_attempt, delivery.status, delivery.outcome = time.time(), result.status, result.outcome
            self.counts["attempts"] += 1
            if result.delivered:
                self.counts["delivered"] += 1
                return None
        log.info("delivery %s of %s to %s: %s %s", delivery.attempts, delivery.event.get("id"),
                 subscription.name, result.status, result.outcome)
        if not result.retried(subscription.endpoint_type):
            return self._give_up(delivery, deadletter.REASON_BAD_REQUEST if result.status == 400
                                 else deadletter.REASON_CLIENT_ERROR)
        if delivery.attempts >= subscription.max_delivery_attempts:
            return self._give_up(delivery, deadletter.REASON_MAX_ATTEMPTS)
        step = RETRY_SCHEDULE[min(delivery.attempts - 1, len(RETRY_SCHEDULE) - 1)]
        with self._cond:
            self.counts["retries"] += 1
            self._schedule(step * random.uniform(0.9, 1.1) * scale, "attempt", delivery)
        return None

    def _post(self, delivery: Delivery) -> transport.Result:
        subscription, event = delivery.subscription, delivery.event
        match = {"subscription": subscription.name, "eventType": event.get("eventType"),
                 "subject": event.get("subject"), "topic": subscription.topic}
        if self.faults is not None and self.faults.take("eventgrid_unreachable", **match):
            return transport.Result(None, "SocketError")
        timed_out = self.faults is not None and self.faults.take("eventgrid_timeout", **match) is not None
        headers = {"aeg-event-type": "Notification", "aeg-subscription-name": subscription.name.upper(),
                   "aeg-delivery-count": str(delivery.attempts),
                   "aeg-data-version": str(event.get("dataVersion", "")),
                   "aeg-metadata-version": str(event.get("metadataVersion", "1"))}
        timeout = FAULT_TIMEOUT_WAIT if timed_out else self.config.delivery_timeout_seconds
        return self.send(subscription.endpoint_url, [event], headers, timeout, await_response=not timed_out)

    def _give_up(self, delivery: Delivery, reason: str) -> None:
        delivery.reason = reason
        with self._cond:
            if not delivery.subscription.dead_letter_container:
                self.counts["dropped"] += 1
                return
            self._schedule(DEAD_LETTER_DELAY * self.config.time_scale, "deadletter", delivery)

    def _dead_letter(self, delivery: Delivery) -> None:
        subscription = delivery.subscription
        name = deadletter.blob_name(subscription.topic_name, subscription.name, time.time())
        body = deadletter.dead_letter_body(delivery.event, delivery.reason, delivery.attempts, delivery.outcome,
                                           delivery.status, delivery.published, delivery.last_attempt)
        try:
            self.writer.write(subscription.dead_letter_container, name, body)
        except Exception:  # noqa: BLE001 - storage unavailable: try again later, as Event Grid does
            log.warning("dead letter for %s not written yet", subscription.name, exc_info=True)
            with self._cond:
                if time.time() - delivery.published > DEAD_LETTER_GIVE_UP * self.config.time_scale:
                    self.counts["dropped"] += 1
                else:
                    self._schedule(DEAD_LETTER_DELAY * self.config.time_scale, "deadletter", delivery)
            return
        with self._cond:
            self.counts["dead_lettered"] += 1
            self.dead_letters.append(f"{subscription.dead_letter_container}/{name}")
        log.info("dead-lettered %s for %s (%s): %s", delivery.event.get("id"), subscription.name, delivery.reason, name)

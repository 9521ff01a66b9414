"""Queue triggers: one listener per function, polling its queue the way the Functions host does.

Rules taken from the host's queue listener (Storage queues extension 5.x):
- a poll asks for ``batchSize`` messages, received invisible for 10 minutes; the next poll
  waits until no more than ``newBatchThreshold`` of them still run;
- an empty poll backs off exponentially (randomised by 20%) from 100 ms up to
  ``maxPollingInterval``; a poll that finds messages resets it;
- success deletes the message; failure makes it visible again after ``visibilityTimeout``;
  a failure at ``dequeueCount >= maxDequeueCount`` (or a message received more often than
  that, e.g. after crashes) moves it to ``<queue>-poison``; so does a body that does not decode;
- while a function runs its message is kept invisible (renewed at half the receive visibility).
"""
from __future__ import annotations

import collections
import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from azure.core.exceptions import ResourceExistsError

from .functions import FunctionInfo, Invocation
from .queue_messages import (
    POISON_SUFFIX, Invisibility, checked_queue_name, decode_body, queue_client, trigger_value,
)
from .queue_options import MIN_POLLING_INTERVAL, QueueOptions
from .settings import resolve, storage_connection_string

log = logging.getLogger("devhost")

RANDOMIZATION = 0.2


@dataclass
class PollStats:
    """What the listener did, for logs and tests: polls, empty polls and the waits chosen."""

    polls: int = 0
    empty_polls: int = 0
    messages: int = 0
    poisoned: int = 0
    most_running: int = 0
    waits: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200))
    batches: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200))


class Backoff:
    """The host's randomised exponential back-off between empty polls."""

    def __init__(self, maximum: float, minimum: float = MIN_POLLING_INTERVAL):
        self.minimum, self.maximum = minimum, maximum
        self.current = minimum
        self._exponent = 1

    def next(self, found_messages: bool) -> float:
        if found_messages:
            self.current, self._exponent = self.minimum, 1
        elif self.current < self.maximum:
            factor = random.uniform(1 - RANDOMIZATION, 1 + RANDOMIZATION)
            candidate = self.minimum + factor * (2 ** (self._exponent - 1)) * self.minimum
            if candidate < self.maximum:
                self.current, self._exponent = candidate, self._exponent + 1
            else:
                self.current = self.maximum
        return self.current


class QueueListener:
    """Polls one queue-triggered function's queue and runs its messages on a thread pool.

    Raises KeyError (unset setting or connection) or ValueError (bad queue name) for a
    trigger that cannot be listened to.
    """

    def __init__(self, fn: FunctionInfo, options: QueueOptions, run: Callable[[FunctionInfo, Any, str], Invocation]):
        self.fn = fn
        self.options = options
        self._run = run
        self.queue_name = checked_queue_name(resolve(fn.trigger.queue_name))
        self.poison_name = self.queue_name + POISON_SUFFIX
        connection = storage_connection_string(fn.trigger.connection)
        self.queue = queue_client(connection, self.queue_name)
        self.poison = queue_client(connection, self.poison_name)
        self.stats = PollStats()
        self._backoff = Backoff(options.max_polling_interval)
        self._running = 0
        self._room = threading.Condition()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=options.max_concurrency, thread_name_prefix=f"queue-{fn.name}")
        self._thread = threading.Thread(target=self._loop, name=f"queue-listener-{fn.name}", daemon=True)
        self._failing = False

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop polling and wait for the running messages (each is then deleted or released)."""
        self._stop.set()
        with self._room:
            self._room.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=False)

    # --- polling -----------------------------------------------------------------------
    def _loop(self) -> None:
        ready = False
        while not self._stop.is_set():
            ready = ready or self._create_queue()
            messages = self._receive() if ready and self._wait_for_room() else []
            if self._stop.is_set():
                for message in messages:  # received while stopping: visible again at once
                    self._release(message, message.pop_receipt, 0)
                return
            wait = self._backoff.next(bool(messages))
            for message in messages:
                with self._room:
                    self._running += 1
                    self.stats.most_running = max(self.stats.most_running, self._running)
                self._pool.submit(self._process, message)
            if not messages:
                self.stats.waits.append(wait)
                self._stop.wait(wait)

    def _create_queue(self) -> bool:
        try:
            self.queue.create_queue()
        except ResourceExistsError:
            pass
        except Exception as error:  # noqa: BLE001 - storage may be down; the loop backs off and retries
            self._report_failure("Creating queue", error)
            return False
        return True

    def _wait_for_room(self) -> bool:
        """Block until at most ``newBatchThreshold`` messages still run; False when stopping."""
        with self._room:
            while self._running > self.options.new_batch_threshold and not self._stop.is_set():
                self._room.wait(0.5)
        return not self._stop.is_set()

    def _receive(self) -> list:
        self.stats.polls += 1
        try:
            pages = self.queue.receive_messages(  # one Get Messages call: the first page only
                messages_per_page=self.options.batch_size,
                visibility_timeout=int(self.options.receive_visibility)).by_page()
            messages = list(next(pages, []))
        except Exception as error:  # noqa: BLE001 - storage may be down; back off and keep polling
            self._report_failure("Polling queue", error)
            messages = []
        else:
            if self._failing:
                log.info("Polling queue '%s' for 'Functions.%s' works again", self.queue_name, self.fn.name)
                self._failing = False
        if messages:
            self.stats.batches.append(len(messages))
        else:
            self.stats.empty_polls += 1
        self.stats.messages += len(messages)
        return messages

    def _report_failure(self, what: str, error: Exception) -> None:
        if not self._failing:  # once per outage, not once per poll
            log.warning("%s '%s' for 'Functions.%s' failed (will keep trying): %s",
                        what, self.queue_name, self.fn.name, error)
        self._failing = True

    # --- one message ---------------------------------------------------------------------
    def _process(self, message: Any) -> None:
        invisible = Invisibility(self.queue, message, int(self.options.receive_visibility))
        pop_receipt = message.pop_receipt
        try:
            if message.dequeue_count > self.options.max_dequeue_count:
                self._poison(message, invisible.finish(), self._count_reached(message))
                return
            try:
                body = decode_body(message.content, self.options.message_encoding)
            except ValueError as error:
                log.error("Queue message %s on '%s' could not be decoded: %s", message.id, self.queue_name, error)
                self._poison(message, invisible.finish(), "It could not be decoded.")
                return
            log.info("Trigger Details: MessageId: %s, DequeueCount: %d, InsertedOn: %s",
                     message.id, message.dequeue_count, message.inserted_on.isoformat() if message.inserted_on else "")
            reason = f"New queue message detected on '{self.queue_name}'."
            result = self._run(self.fn, trigger_value(message, body), reason)
            pop_receipt = invisible.finish()
            if result.succeeded:
                self.queue.delete_message(message.id, pop_receipt)
            elif message.dequeue_count >= self.options.max_dequeue_count:
                self._poison(message, pop_receipt, self._count_reached(message))
            else:
                self._release(message, pop_receipt, self.options.visibility_timeout)
        except Exception as error:  # noqa: BLE001 - storage error: the message reappears after its visibility
            log.warning("Completing queue message %s on '%s' failed: %s", message.id, self.queue_name, error)
        finally:
            invisible.finish()
            with self._room:
                self._running -= 1
                self._room.notify_all()

    def _release(self, message: Any, pop_receipt: str, after_seconds: float) -> None:
        """Make the message visible again after ``after_seconds`` (its dequeue count stays)."""
        try:
            self.queue.update_message(message.id, pop_receipt=pop_receipt, visibility_timeout=int(after_seconds))
        except Exception as error:  # noqa: BLE001 - it reappears after its receive visibility anyway
            log.warning("Releasing queue message %s on '%s' failed: %s", message.id, self.queue_name, error)

    def _count_reached(self, message: Any) -> str:
        return f"It has reached MaxDequeueCount of {self.options.max_dequeue_count} (dequeued {message.dequeue_count} times)."

    def _poison(self, message: Any, pop_receipt: str, why: str) -> None:
        """Copy the message, as stored, to ``<queue>-poison`` and delete the original."""
        log.error("Queue message %s on '%s': %s Moving message to queue '%s'.",
                  message.id, self.queue_name, why, self.poison_name)
        try:
            self.poison.create_queue()
        except ResourceExistsError:
            pass
        self.poison.send_message(message.content)
        self.queue.delete_message(message.id, pop_receipt)
        self.stats.poisoned += 1

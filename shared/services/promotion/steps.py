"""The step runner: one queue message runs one step of a candidate, a decision or a rollback.

Each record keeps its StepState (the step due, the run, whether its message is out, who runs it).
A message runs its step only when that step is due in the record and no other message holds
it; the step's outcome moves the record on and sends the next message. A crash anywhere leaves
the message in the queue: it is delivered again after the visibility timeout and runs again;
a duplicate or late message changes nothing. On the last delivery a failing step marks its
record failed, then the host moves the message to the poison queue.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Protocol

from shared.domain.clock import iso
from shared.domain.errors import DomainError, PlatformError
from shared.domain.steps import DONE, KINDS, StepMessage, StepState
from shared.ports import StepQueue

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=12)  # longer than any one step may run (host.json functionTimeout)


@dataclass(frozen=True)
class Next:
    """A step's outcome: go on with `step` (DONE: the path is over), after `delay_seconds`."""

    step: str
    delay_seconds: float = 0


@dataclass(frozen=True)
class Poll:
    """A step's outcome: the platform is still working; run the same step again after `delay_seconds`."""

    delay_seconds: float


class Track(Protocol):
    """One kind of record that steps advance (candidates, decisions, rollbacks)."""

    kind: str

    def state(self, subject: str) -> StepState | None:
        """The record's StepState, None when there is no such record."""

    def change_state(self, subject: str, change: Callable[[StepState], bool | None]) -> StepState:
        """Apply `change` to the record's StepState under an ETag condition (False: leave it)."""

    def run(self, step: str, subject: str, state: StepState) -> Next | Poll:
        """Do the step (idempotently); failures of the step's own making are recorded by it."""

    def fail(self, subject: str, step: str, reason: str) -> None:
        """Record that the step cannot succeed (its last delivery failed)."""


class StepRunner:
    def __init__(self, queue: StepQueue, tracks: list[Track], clock, max_dequeue_count: int, poisoned=None):
        self.queue = queue
        self.tracks = {track.kind: track for track in tracks}
        self.clock = clock
        self.max_dequeue_count = max_dequeue_count
        self.poisoned = poisoned  # PoisonedMessages: what failed for good, for the dashboard (None: not kept)

    def send(self, kind: str, subject: str) -> None:
        """Send the message of the record's due step (again); marks it sent."""
        track = self.tracks[kind]
        state = track.state(subject)
        if state is None or state.step == DONE:
            return
        self._send(track, subject, state, 0)

    def run(self, body: str, message_id: str = "", dequeue_count: int = 1) -> str:
        """Run the step a queue message names; what happened, in a word (for the log)."""
        message = StepMessage.parse(body)
        track = self.tracks[message.kind]
        state = track.state(message.subject)
        if state is None:
            log.warning("step %s of unknown %s %s: dropped", message.step, message.kind, message.subject)
            return "unknown"
        if not state.is_due(message):
            return self._late(track, message, state)
        if not self._claim(track, message, message_id):
            return "busy"
        try:
            outcome = track.run(message.step, message.subject, state)
        except Exception as error:  # noqa: BLE001 - retried by the queue; recorded on the last try
            self._release(track, message)
            if dequeue_count >= self.max_dequeue_count:
                reason = getattr(error, "message", None) or f"{error.__class__.__name__}: {error}"
                log.error("%s %s: step %s failed for good: %s", message.kind, message.subject, message.step, reason)
                track.fail(message.subject, message.step, f"{reason} (after {dequeue_count} tries)")
                self._close(track, message)
                if self.poisoned is not None:
                    self.poisoned.add(message.kind, message.subject, message.step, message.attempt, message_id,
                                      dequeue_count, reason, self.clock())
            elif not isinstance(error, DomainError) or isinstance(error, PlatformError):
                log.warning("%s %s: step %s failed (try %d): %s", message.kind, message.subject, message.step,
                            dequeue_count, error)
            raise
        return self._after(track, message, outcome)

    # --- bookkeeping -----------------------------------------------------------------

    def _late(self, track: Track, message: StepMessage, state: StepState) -> str:
        """A duplicate or late message. If the record moved on but its next message was never sent
        (a crash between the two writes), send it now."""
        if state.attempt == message.attempt and state.step != DONE and not state.enqueued and not state.claimed_at \
                and _order(message) < _order(StepMessage(message.kind, message.subject, state.step, state.attempt)):
            self._send(track, message.subject, state, 0)
            return "resent"
        return "stale"

    def _claim(self, track: Track, message: StepMessage, message_id: str) -> bool:
        now, claimed = self.clock(), []

        def claim(state: StepState) -> bool:
            holder = state.claimed_at or ""
            at, _, owner = holder.partition("|")
            fresh = at and datetime.fromisoformat(at) > now - CLAIM_LEASE
            if not state.is_due(message) or (fresh and owner != message_id):
                claimed.append(False)
                return False
            state.claimed_at, state.started_at = f"{iso(now)}|{message_id}", state.started_at or iso(now)
            claimed.append(True)
            return True

        track.change_state(message.subject, claim)
        return claimed[-1]

    def _close(self, track: Track, message: StepMessage) -> None:
        """The path is over (failed for good): later copies of its messages are late, not due."""
        now = iso(self.clock())

        def close(state: StepState) -> bool:
            if not state.is_due(message):
                return False
            state.advance(DONE, now)
            return True

        track.change_state(message.subject, close)

    def _release(self, track: Track, message: StepMessage) -> None:
        def release(state: StepState) -> bool:
            if not state.is_due(message):
                return False
            state.claimed_at = None
            return True

        track.change_state(message.subject, release)

    def _after(self, track: Track, message: StepMessage, outcome: Next | Poll) -> str:
        now = iso(self.clock())

        def move(state: StepState) -> bool:
            if not state.is_due(message):
                return False
            if isinstance(outcome, Poll):
                state.polls, state.claimed_at, state.enqueued = state.polls + 1, None, False
            else:
                state.advance(outcome.step, now)
            return True

        state = track.change_state(message.subject, move)
        if state.step == DONE:
            return "done"
        self._send(track, message.subject, state, outcome.delay_seconds)
        return "polled" if isinstance(outcome, Poll) else f"next {state.step}"

    def _send(self, track: Track, subject: str, state: StepState, delay: float) -> None:
        self.queue.enqueue(state.message(track.kind, subject).to_json(), delay)
        due = (state.step, state.attempt)

        def sent(current: StepState) -> bool:
            if (current.step, current.attempt) != due or current.enqueued:
                return False
            current.enqueued = True
            return True

        track.change_state(subject, sent)


def _order(message: StepMessage) -> int:
    steps = KINDS[message.kind]
    return steps.index(message.step) if message.step in steps else len(steps)

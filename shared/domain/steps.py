"""Steps: the resumable units of the candidate pipeline and of decisions, one queue message each.

A message names what it advances (a candidate version or an approval), the run it belongs to
(`attempt`: a redeploy starts a new run, so messages of an older run are ignored) and the step.
The record it advances says which step is due; a message for any other step is a duplicate or
arrived late, and changes nothing.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from shared.domain.errors import InvalidInput

# The candidate's path, in order.
GATE, DEPLOY, AWAIT_DEPLOYMENT, SMOKE_TEST, REQUEST_APPROVAL = (
    "gate", "deploy", "await_deployment", "smoke_test", "request_approval")
CANDIDATE_STEPS = (GATE, DEPLOY, AWAIT_DEPLOYMENT, SMOKE_TEST, REQUEST_APPROVAL)
# A claimed decision's path.
PROMOTE, VERIFY_PROMOTION, REJECT = "promote", "verify_promotion", "reject"
APPROVAL_STEPS = (PROMOTE, VERIFY_PROMOTION, REJECT)
# A rollback's path (previous champion back to 100%).
ROLLBACK_DEPLOY, ROLLBACK_AWAIT, ROLLBACK_SWITCH = "rollback_deploy", "rollback_await", "rollback_switch"
ROLLBACK_STEPS = (ROLLBACK_DEPLOY, ROLLBACK_AWAIT, ROLLBACK_SWITCH)
DONE = "done"

KINDS = {"candidate": CANDIDATE_STEPS, "approval": APPROVAL_STEPS, "rollback": ROLLBACK_STEPS}

# What a person reads for each step (failed_step, notifications).
STEP_LABELS = {
    GATE: "quality gate", DEPLOY: "staging deployment", AWAIT_DEPLOYMENT: "staging deployment",
    SMOKE_TEST: "smoke test", REQUEST_APPROVAL: "approval request",
    PROMOTE: "traffic switch", VERIFY_PROMOTION: "traffic switch", REJECT: "staging teardown",
    ROLLBACK_DEPLOY: "rollback deployment", ROLLBACK_AWAIT: "rollback deployment", ROLLBACK_SWITCH: "rollback switch",
}

MAX_MESSAGE_BYTES = 4096


@dataclass(frozen=True)
class StepMessage:
    kind: str  # "candidate" | "approval" | "rollback"
    subject: str  # the candidate's version, the approval's id, the rollback's id
    step: str
    attempt: int = 1

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def parse(cls, body: str | bytes) -> "StepMessage":
        """A queue message body → StepMessage; InvalidInput naming what is wrong."""
        if len(body) > MAX_MESSAGE_BYTES:
            raise InvalidInput(f"step message is larger than {MAX_MESSAGE_BYTES} bytes")
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("step message is not JSON") from None
        if not isinstance(raw, dict) or set(raw) != {"kind", "subject", "step", "attempt"}:
            raise InvalidInput("step message must be an object with kind, subject, step and attempt")
        kind, subject, step, attempt = raw["kind"], raw["subject"], raw["step"], raw["attempt"]
        if kind not in KINDS or step not in KINDS[kind]:
            raise InvalidInput(f"step message: unknown kind/step {str(kind)[:20]!r}/{str(step)[:30]!r}")
        if not isinstance(subject, str) or not 0 < len(subject) <= 200:
            raise InvalidInput("step message: subject must be a non-empty string of at most 200 characters")
        if not isinstance(attempt, int) or isinstance(attempt, bool) or not 1 <= attempt <= 1000:
            raise InvalidInput("step message: attempt must be a whole number from 1 to 1000")
        return cls(kind, subject, step, attempt)


@dataclass
class StepState:
    """Where a record is on its path: the step due, its run, whether its message is out, who runs it."""

    step: str = GATE
    attempt: int = 1
    enqueued: bool = False  # the due step's message has been sent
    claimed_at: str | None = None  # a message is running the due step since then
    started_at: str | None = None  # when the due step was first started (deadlines of polling steps)
    polls: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict | None) -> "StepState":
        return cls(**doc) if doc else cls()

    def message(self, kind: str, subject: str) -> StepMessage:
        return StepMessage(kind, subject, self.step, self.attempt)

    def overdue(self, now: datetime, seconds: float) -> bool:
        """The due step has been started (and polled) for longer than `seconds`."""
        return bool(self.started_at) and now - datetime.fromisoformat(self.started_at) > timedelta(seconds=seconds)

    def is_due(self, message: StepMessage) -> bool:
        return message.attempt == self.attempt and message.step == self.step

    def advance(self, next_step: str, at: str) -> None:
        self.step, self.enqueued, self.claimed_at, self.started_at, self.polls = next_step, False, None, at, 0

    def restart(self, first_step: str, at: str) -> None:
        """A new run (redeploy): messages of the earlier run stop counting."""
        self.attempt += 1
        self.advance(first_step, at)

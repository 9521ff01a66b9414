"""The step queue: one message runs one step of a candidate, a decision or a rollback."""
from __future__ import annotations

import logging

import azure.functions as func

from shared.bootstrap import get_services
from shared.domain.clock import utc_now
from shared.domain.errors import InvalidInput

log = logging.getLogger(__name__)
bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name="%STEP_QUEUE_NAME%", connection="AzureWebJobsStorage")
def run_step(msg: func.QueueMessage) -> None:
    """A failure raises: the host delivers the message again, and after maxDequeueCount tries moves
    it to the poison queue (the step marked its record failed on the last try)."""
    services = get_services()
    body = msg.get_body().decode("utf-8", errors="replace")
    try:
        outcome = services.steps.run(body, msg.id or "", msg.dequeue_count or 1)
    except InvalidInput as error:
        kept = services.repos.malformed_events.keep({"queue_message": body[:4096]}, error.message, utc_now())
        log.warning("malformed step message kept as %s: %s", kept, error.message)
        return
    log.info("step message %s (try %s): %s", msg.id, msg.dequeue_count, outcome)

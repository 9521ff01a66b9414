"""Creating a subscription: a WebHook endpoint must answer Event Grid's validation handshake
(a SubscriptionValidation event, answered 200 with {"validationResponse": <validationCode>}),
else the subscription's provisioning Fails; AzureFunction destinations need none.

The emulator creates the subscriptions once the Functions host answers, as the deploy workflow
runs events.bicep only after the host is up (infra/README.md, "Two deployments"): while the
endpoint refuses connections the handshake is tried again, for up to `wait_seconds`."""
from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Callable

from emulators.azure.eventgrid import deadletter, transport
from emulators.azure.eventgrid.subscriptions import Subscription

log = logging.getLogger("azure_emulator.eventgrid")

VALIDATION_TIMEOUT = 30.0


def validation_event(subscription: Subscription, code: str) -> dict:
    """The SubscriptionValidationEvent Event Grid sends (Event Grid schema)."""
    return {"id": str(uuid.uuid4()), "topic": subscription.topic, "subject": "",
            "data": {"validationCode": code}, "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
            "eventTime": deadletter.timestamp(time.time()), "metadataVersion": "1", "dataVersion": "1"}


StateSetter = Callable[[Subscription, str, str | None], None]


def set_state(subscription: Subscription, state: str, failure: str | None = None) -> None:
    """Set the provisioning state (and the failure, unless None) without a lock (one-thread callers)."""
    subscription.state = state
    if failure is not None:
        subscription.failure = failure


def handshake(subscription: Subscription, send: Callable[..., transport.Result] = transport.post,
              update: StateSetter = set_state) -> transport.Result:
    """One validation attempt; Succeeded/Failed is set (through `update`) only when the endpoint answered."""
    code = str(uuid.uuid4()).upper()
    headers = {"aeg-event-type": "SubscriptionValidation", "aeg-subscription-name": subscription.name.upper(),
               "aeg-delivery-count": "0", "aeg-data-version": "1", "aeg-metadata-version": "1"}
    result = send(subscription.endpoint_url, [validation_event(subscription, code)], headers, VALIDATION_TIMEOUT)
    if result.status is None:
        return result
    if result.status == 200 and _validation_response(result.body) == code:
        update(subscription, "Succeeded", "")
    else:
        why = ("The response did not carry the validationCode as validationResponse." if result.status == 200
               else f"Http POST request failed with response code {result.status}.")
        update(subscription, "Failed", f"Webhook validation handshake failed for {subscription.endpoint_url.split('?')[0]}. "
                                       f"{why} For troubleshooting, visit https://aka.ms/esvalidation.")
    return result


def create(subscription: Subscription, wait_seconds: float, stopping: Callable[[], bool],
           send: Callable[..., transport.Result] = transport.post, poll: float = 0.5,
           update: StateSetter = set_state) -> str:
    """Provision `subscription` (the handshake for a WebHook); its final provisioningState. Every
    state change goes through `update` (the deliveries' locked setter: submit reads the state)."""
    if subscription.endpoint_type != "WebHook":
        update(subscription, "Succeeded", None)
        return subscription.state
    update(subscription, "Creating", None)
    deadline = time.monotonic() + wait_seconds
    while not stopping():
        result = handshake(subscription, send, update)
        if result.status is not None:
            break
        if time.monotonic() >= deadline:
            update(subscription, "Failed", f"Webhook validation handshake failed for "
                                           f"{subscription.endpoint_url.split('?')[0]}. "
                                           f"The endpoint did not answer ({result.outcome}).")
            break
        time.sleep(poll)
    log.info("subscription %s: %s %s", subscription.name, subscription.state, subscription.failure)
    return subscription.state


def _validation_response(body: bytes) -> str | None:
    try:
        answer = json.loads(body or b"null")
    except ValueError:
        return None
    return answer.get("validationResponse") if isinstance(answer, dict) else None

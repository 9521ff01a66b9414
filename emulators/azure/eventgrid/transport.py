"""One HTTP POST of a delivery attempt and how Event Grid reads its result."""
from __future__ import annotations

import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

SUCCESS = range(200, 205)  # 200-204: delivered
OUTCOMES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 408: "TimedOut",
            413: "PayloadTooLarge"}
# Status codes Event Grid does not retry (dead-lettered at once), by endpoint type.
NOT_RETRIED = {"WebHook": {400, 401, 403, 413}, "AzureFunction": {400, 403, 413}}


@dataclass(frozen=True)
class Result:
    """What one attempt came to: the HTTP status (None when none came back), Event Grid's
    lastDeliveryOutcome word, and the answer's body (for the validation handshake)."""

    status: int | None
    outcome: str
    body: bytes = b""

    @property
    def delivered(self) -> bool:
        return self.status in SUCCESS

    def retried(self, endpoint_type: str) -> bool:
        return self.status not in NOT_RETRIED.get(endpoint_type, set())


def outcome_of(status: int) -> str:
    if status in SUCCESS:
        return "Delivered"
    return OUTCOMES.get(status, "Busy")


def post(url: str, payload: list, headers: dict[str, str], timeout: float, await_response: bool = True) -> Result:
    """POST `payload` as JSON; a timeout → TimedOut, a connection failure → SocketError. With
    `await_response` False the request is sent and the connection closed unanswered (a timeout)."""
    split = urlsplit(url)
    path = split.path + (f"?{split.query}" if split.query else "")
    body = json.dumps(payload).encode()
    if split.scheme == "https":
        connection = http.client.HTTPSConnection(split.hostname, split.port, timeout=timeout,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(split.hostname, split.port, timeout=timeout)
    try:
        try:
            connection.request("POST", path, body, {**headers, "Content-Type": "application/json",
                                                    "Content-Length": str(len(body))})
        except (OSError, http.client.HTTPException):
            return Result(None, "SocketError")
        if not await_response:
            return Result(None, "TimedOut")
        try:
            response = connection.getresponse()
            answer = response.read()
        except (socket.timeout, TimeoutError):
            return Result(None, "TimedOut")
        except (OSError, http.client.HTTPException):
            return Result(None, "SocketError")
        return Result(response.status, outcome_of(response.status), answer)
    finally:
        connection.close()

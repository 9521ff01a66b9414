"""Domain errors: each maps to one HTTP status at the edge; messages are safe to show."""
import re

# A URL's query (a SAS: ?sv=...&sig=..., a function key: ?code=...) and any sig=/code=/...key=/token=
# value: what an SDK's exception text may quote, and no body, page or record may carry.
_URL_QUERY = re.compile(r"(?i)\b((?:https?|wss?)://[^\s?#'\"<>]*)\?[^\s#'\"<>]*")
_SECRET_VALUE = re.compile(r"(?i)\b((?:sig|signature|code|[\w-]*key|[\w-]*token|password|secret))=[^&;\s'\"<>]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` without URL queries and sig=/code=/key=/token= values (each replaced by [redacted])."""
    text = _URL_QUERY.sub(lambda m: f"{m.group(1)}?{REDACTED}", str(text))
    return _SECRET_VALUE.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


class DomainError(Exception):
    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """The request or event is malformed: it names what is wrong."""

    status = 400


class Unauthorized(DomainError):
    """Missing, forged or stale credentials (signature, token)."""

    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The thing is not in a state that allows the request (already decided, superseded...)."""

    status = 409


class TooLarge(DomainError):
    """What was asked for (or sent) is larger than its bound; the message names the bound."""

    status = 413


class PlatformError(DomainError):
    """The ML platform or storage failed; the message says which step. It often quotes an SDK's
    exception text, so it is redacted (see redact)."""

    status = 502

    def __init__(self, message: str):
        super().__init__(redact(message))


class Unavailable(DomainError):
    """A backing service (storage) cannot be reached now; nothing was changed, retry after a while."""

    status = 503

    def __init__(self, message: str, retry_after_seconds: int = 5):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

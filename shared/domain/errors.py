"""Domain errors: each maps to one HTTP status at the edge; messages are safe to show."""


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


class PlatformError(DomainError):
    """The ML platform or storage failed; the message says which step."""

    status = 502


class Unavailable(DomainError):
    """A backing service (storage) cannot be reached now; nothing was changed, retry after a while."""

    status = 503

    def __init__(self, message: str, retry_after_seconds: int = 5):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

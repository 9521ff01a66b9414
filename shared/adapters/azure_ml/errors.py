"""azure-core / azure-ai-ml exceptions → domain errors that say which step failed."""
from __future__ import annotations

import contextlib
from typing import Iterator

from shared.domain.errors import Conflict, DomainError, InvalidInput, NotFound, PlatformError, redact


def service_message(error: BaseException) -> str:
    """The service's own error code and message, one line, without the SDK's boilerplate, and without
    any URL's query or sig=/code=/key= value (the SDK quotes signed URLs: a SAS must not reach a body)."""
    inner = getattr(error, "error", None)  # azure.core ODataV4Format
    code = getattr(inner, "code", None)
    message = getattr(inner, "message", None)
    if not message:
        message = getattr(error, "message", None) or str(error)
    message = " ".join(str(message).split())
    status = getattr(error, "status_code", None)
    prefix = " ".join(str(p) for p in (f"HTTP {status}" if status else None, code) if p)
    text = f"{prefix}: {message}" if prefix else message
    return redact(text)[:600]


def status_of(error: BaseException) -> int | None:
    status = getattr(error, "status_code", None)
    if status is None:
        status = getattr(getattr(error, "response", None), "status_code", None)
    return status


def translate(step: str, error: BaseException) -> DomainError:
    """One domain error for an exception raised while doing `step`."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceExistsError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(error, DomainError):
        return error
    if isinstance(error, ResourceNotFoundError) or status_of(error) == 404:
        return NotFound(f"{step}: not found in Azure ML ({service_message(error)})")
    if isinstance(error, ResourceExistsError) or status_of(error) == 409:
        return Conflict(f"{step}: conflict in Azure ML ({service_message(error)})")
    if isinstance(error, ClientAuthenticationError):
        return PlatformError(f"{step}: Azure refused the credentials ({service_message(error)})")
    if isinstance(error, HttpResponseError):
        return PlatformError(f"{step} failed: {service_message(error)}")
    if isinstance(error, (ServiceRequestError, ServiceResponseError)):
        return PlatformError(f"{step}: Azure ML unreachable ({error.__class__.__name__}: {redact(str(error))})")
    if _is_validation(error):
        return InvalidInput(f"{step}: Azure ML SDK refused the request ({service_message(error)})")
    return PlatformError(f"{step} failed: {error.__class__.__name__}: {service_message(error)}")


def _is_validation(error: BaseException) -> bool:
    return type(error).__name__ in {"ValidationException", "ValidationError", "SchemaValidationError"}


@contextlib.contextmanager
def azure_step(step: str) -> Iterator[None]:
    """Run a block of SDK calls; any exception leaves as the domain error for `step`."""
    try:
        yield
    except DomainError:
        raise
    except Exception as error:  # noqa: BLE001 - translated, the cause kept
        raise translate(step, error) from error


def wait_for(poller, step: str, timeout_seconds: float):
    """The long-running operation's result, or PlatformError naming the step: failed or not
    finished within `timeout_seconds` (the operation itself keeps running in Azure)."""
    try:
        poller.wait(timeout=timeout_seconds)
        if not poller.done():
            raise PlatformError(f"{step} did not finish within {timeout_seconds:g} s "
                                f"(last status: {poller.status()}; it may still complete in Azure)")
        return poller.result()
    except DomainError:
        raise
    except Exception as error:  # noqa: BLE001
        translated = translate(step, error)
        if isinstance(translated, (NotFound, Conflict)):
            raise translated from error
        raise PlatformError(f"{step} failed: {service_message(error)}") from error

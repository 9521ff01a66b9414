"""Loading ``function_app.app`` and invoking its functions the way the worker does."""
from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import sys
import time
import typing
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("devhost")

HTTP, EVENT_GRID, TIMER, BLOB = "httpTrigger", "eventGridTrigger", "timerTrigger", "blobTrigger"
QUEUE = "queueTrigger"


@dataclass
class FunctionInfo:
    """One indexed function: its name, trigger binding and the user's Python function."""

    name: str
    trigger_type: str
    binding_name: str
    trigger: Any
    user_function: Callable[..., Any]
    disabled: bool = False
    wants_context: bool = field(init=False)
    trigger_annotation: Any = field(init=False)

    def __post_init__(self) -> None:
        try:
            parameters = inspect.signature(self.user_function).parameters
        except (TypeError, ValueError):
            parameters = {}
        self.wants_context = "context" in parameters and self.binding_name != "context"
        param = parameters.get(self.binding_name)
        self.trigger_annotation = param.annotation if param is not None else inspect.Parameter.empty
        if isinstance(self.trigger_annotation, str):  # `from __future__ import annotations`
            self.trigger_annotation = _resolved_hints(self.user_function).get(self.binding_name, self.trigger_annotation)


def _resolved_hints(user_function: Callable[..., Any]) -> dict[str, Any]:
    """The function's annotations evaluated as the worker evaluates them (``typing.get_type_hints``)."""
    try:
        return typing.get_type_hints(user_function)
    except Exception:  # noqa: BLE001 - a hint that does not evaluate stays a string, as before
        return {}


def load_app(app_dir: Path) -> Any:
    """Import ``function_app`` from app_dir (fresh, even if another app was imported before)."""
    app_dir = app_dir.resolve()
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    sys.modules.pop("function_app", None)
    importlib.invalidate_caches()
    module = importlib.import_module("function_app")
    if Path(module.__file__).resolve().parent != app_dir:
        raise ImportError(f"imported {module.__file__}, expected function_app.py in {app_dir}")
    app = getattr(module, "app", None)
    if app is None or not hasattr(app, "get_functions"):
        raise ImportError(f"{module.__file__} defines no FunctionApp named 'app'")
    return app


def index_functions(app: Any, environ: dict[str, str] | Any) -> list[FunctionInfo]:
    """The app's functions; ``AzureWebJobs.<name>.Disabled=true`` marks one disabled."""
    # get_functions() builds the binding list once and raises on a second build.
    app.functions_bindings = None
    result = []
    for function in app.get_functions():
        trigger = function.get_trigger()
        name = function.get_function_name()
        disabled = str(environ.get(f"AzureWebJobs.{name}.Disabled", "")).lower() in ("1", "true")
        result.append(
            FunctionInfo(
                name=name,
                trigger_type=str(getattr(trigger, "type", None) or trigger.get_binding_name()),
                binding_name=trigger.name,
                trigger=trigger,
                user_function=function.get_user_function(),
                disabled=disabled,
            )
        )
    return result


class Context:
    """The subset of ``azure.functions.Context`` a function may ask for as ``context``."""

    def __init__(self, invocation_id: str, function_name: str, function_directory: str):
        self.invocation_id = invocation_id
        self.function_name = function_name
        self.function_directory = function_directory
        self.trace_context = None
        self.retry_context = None
        self.thread_local_storage = None


@dataclass
class Invocation:
    id: str
    succeeded: bool
    value: Any = None
    error: BaseException | None = None


def invoke(fn: FunctionInfo, trigger_value: Any, reason: str, function_directory: str = "") -> Invocation:
    """Run one invocation with the host's log lines; never raises for errors of the function."""
    invocation_id = str(uuid.uuid4())
    log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", fn.name, reason, invocation_id)
    started = time.monotonic()
    kwargs = {fn.binding_name: trigger_value}
    if fn.wants_context:
        kwargs["context"] = Context(invocation_id, fn.name, function_directory)
    try:
        value = fn.user_function(**kwargs)
        if inspect.isawaitable(value):
            value = asyncio.run(_await(value))
    except Exception as error:  # noqa: BLE001 - any failure of user code is reported, not raised
        duration = _ms(started)
        log.error(
            "Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms)",
            fn.name, invocation_id, duration, exc_info=error,
        )
        return Invocation(invocation_id, False, error=error)
    log.info("Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%dms)", fn.name, invocation_id, _ms(started))
    return Invocation(invocation_id, True, value=value)


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)

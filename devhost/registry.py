"""The function registry: the app's indexed functions, their HTTP routes, and invoking one."""
from __future__ import annotations

from typing import Any, Iterable

from .functions import BLOB, HTTP, QUEUE, TIMER, FunctionInfo, Invocation, invoke
from .routes import RouteTemplate
from .settings import resolve

# The reason the real host logs for a run that no trigger source started.
HOST_API_REASON = "This function was programmatically called via the host APIs."


class FunctionRegistry:
    """The functions of one loaded app, as the host's triggers and HTTP front end see them.

    ``route_prefix`` is host.json's ``extensions.http.routePrefix`` without slashes ("" for
    none); ``function_directory`` is what an invoked function finds in
    ``context.function_directory``. Route templates are resolved (``%SETTING%``) here, so an
    unset setting fails the host's start.
    """

    def __init__(self, functions: Iterable[FunctionInfo], route_prefix: str = "api", function_directory: str = ""):
        self.functions: tuple[FunctionInfo, ...] = tuple(functions)
        self.route_prefix = route_prefix
        self.function_directory = function_directory
        routes = [(fn, RouteTemplate(self.route_of(fn))) for fn in self.enabled(HTTP)]
        self.http_routes: tuple[tuple[FunctionInfo, RouteTemplate], ...] = tuple(
            sorted(routes, key=lambda item: item[1].sort_key())
        )

    @property
    def names(self) -> list[str]:
        """The names of all indexed functions, disabled ones included."""
        return [fn.name for fn in self.functions]

    def enabled(self, trigger_type: str) -> list[FunctionInfo]:
        """The functions of one trigger kind that are not disabled, in index order."""
        return [fn for fn in self.functions if fn.trigger_type == trigger_type and not fn.disabled]

    def find(self, name: str) -> FunctionInfo | None:
        """The enabled function called ``name`` (case-insensitive, like the real host), or None."""
        return next((fn for fn in self.functions if fn.name.lower() == name.lower() and not fn.disabled), None)

    def route_of(self, fn: FunctionInfo) -> str:
        """An HTTP function's route template (its name when the decorator gives no route)."""
        return resolve(fn.trigger.route) if fn.trigger.route is not None else fn.name

    def matching_routes(self, relative_path: str) -> list[tuple[FunctionInfo, dict[str, str]]]:
        """The HTTP functions whose route matches a path below the prefix, with their route params, best first."""
        return [(fn, params) for fn, template in self.http_routes if (params := template.match(relative_path)) is not None]

    def describe(self, fn: FunctionInfo) -> dict[str, Any]:
        """One function as the admin API lists it: name, trigger and the trigger's main binding details."""
        info: dict[str, Any] = {"name": fn.name, "trigger": fn.trigger_type, "disabled": fn.disabled}
        if fn.trigger_type == HTTP:
            info["route"] = self.route_of(fn)
            info["methods"] = http_methods(fn) or None
            info["authLevel"] = str(getattr(fn.trigger.auth_level, "value", fn.trigger.auth_level))
        elif fn.trigger_type == TIMER:
            info["schedule"] = fn.trigger.schedule
        elif fn.trigger_type == BLOB:
            info["path"] = fn.trigger.path
        elif fn.trigger_type == QUEUE:
            info["queueName"] = fn.trigger.queue_name
        return info

    def run(self, fn: FunctionInfo, trigger_value: Any, reason: str) -> Invocation:
        """Invoke one function with its trigger value; failures of the function come back in the result."""
        return invoke(fn, trigger_value, reason, self.function_directory)


def http_methods(fn: FunctionInfo) -> list[str]:
    """An HTTP function's allowed methods as strings; empty means any method."""
    return [str(getattr(m, "value", m)) for m in fn.trigger.methods or []]

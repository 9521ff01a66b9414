"""Azure Functions (ASP.NET-style) route templates: ``items/{id:int}``, ``{x?}``, ``{*rest}``."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable
from urllib.parse import unquote

_PARAM = re.compile(r"\{([^{}]+)\}")

_CONSTRAINTS: dict[str, Callable[[str], bool]] = {
    "int": lambda v: re.fullmatch(r"-?\d+", v) is not None and -(2**31) <= int(v) < 2**31,
    "long": lambda v: re.fullmatch(r"-?\d+", v) is not None and -(2**63) <= int(v) < 2**63,
    "alpha": lambda v: re.fullmatch(r"[A-Za-z]+", v) is not None,
    "bool": lambda v: v.lower() in ("true", "false"),
    "guid": lambda v: re.fullmatch(
        r"\{?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\}?", v
    ) is not None,
    "double": lambda v: _is_float(v),
    "float": lambda v: _is_float(v),
    "decimal": lambda v: _is_float(v),
}


def _is_float(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class _Param:
    name: str
    constraints: tuple[str, ...]
    optional: bool
    catch_all: bool


class RouteTemplate:
    """A compiled route template; ``match(path)`` returns the route params or None."""

    def __init__(self, template: str):
        self.template = template.strip("/")
        self._params: dict[str, _Param] = {}
        parts = []
        segments = self.template.split("/") if self.template else []
        for segment in segments:
            parts.append(self._segment_regex(segment))
        self._regex = re.compile("^" + "".join(parts) + "/?$", re.IGNORECASE)
        self.literal_segments = sum(1 for s in segments if not _PARAM.search(s))
        self.has_catch_all = any(p.catch_all for p in self._params.values())

    def _segment_regex(self, segment: str) -> str:
        whole = _PARAM.fullmatch(segment)
        if whole:
            param = self._add_param(whole.group(1))
            if param.catch_all:
                return f"(?:/(?P<{param.name}>.*))?"
            group = f"/(?P<{param.name}>[^/]+)"
            return f"(?:{group})?" if param.optional else group
        regex, pos = "/", 0
        for match in _PARAM.finditer(segment):
            regex += re.escape(segment[pos:match.start()])
            param = self._add_param(match.group(1))
            regex += f"(?P<{param.name}>[^/]+?)" + ("?" if param.optional else "")
            pos = match.end()
        return regex + re.escape(segment[pos:])

    def _add_param(self, spec: str) -> _Param:
        catch_all = spec.startswith("*")
        spec = spec.lstrip("*")
        optional = spec.endswith("?")
        spec = spec.rstrip("?")
        name, *constraints = spec.split(":")
        # Constraints may carry arguments, e.g. minlength(3): only the name is used here.
        constraints = tuple(c.split("(")[0].lower() for c in constraints)
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise ValueError(f"unsupported route parameter {spec!r} in {self.template!r}")
        param = _Param(name, constraints, optional or catch_all, catch_all)
        self._params[name] = param
        return param

    def match(self, path: str) -> dict[str, str] | None:
        """Match a URL path relative to the route prefix (leading slash optional, still percent-encoded)."""
        if not path.startswith("/"):
            path = "/" + path
        found = self._regex.match(path)
        if not found:
            return None
        params = {}
        for name, raw in found.groupdict().items():
            if raw is None:
                continue
            value = unquote(raw)
            for constraint in self._params[name].constraints:
                check = _CONSTRAINTS.get(constraint)
                if check and not check(value):
                    return None
            params[name] = value
        return params

    def sort_key(self) -> tuple:
        """Literal routes before parameterised ones, catch-alls last (ASP.NET precedence, roughly)."""
        return (self.has_catch_all, -self.literal_segments, len(self._params))

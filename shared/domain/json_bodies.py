"""JSON bodies with limits: size, nesting depth and number length are checked before anything
is built from them, so a hostile body is a 400 naming the limit, never a RecursionError or the
interpreter's int-conversion ValueError (a 500)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from shared.domain.errors import InvalidInput


@dataclass(frozen=True)
class JsonLimits:
    max_bytes: int = 64 * 1024
    max_depth: int = 32
    max_number_chars: int = 40  # longer than any float or 64-bit integer needs


DECISION_BODY = JsonLimits()  # approve, reject, rollback, training request: a name and a comment
WEBHOOK_BODY = JsonLimits(max_bytes=1024 * 1024)  # an MLflow registry delivery (tags, descriptions)

# An escape (a backslash and the character after it, so an escaped quote is no quote), a quote or
# a bracket: every match starts at its own character, so scanning stays linear for any input.
_TOKENS = re.compile(rb'\\.|["\[\]{}]', re.DOTALL)


def check_size(body: bytes, what: str, limits: JsonLimits) -> None:
    if len(body) > limits.max_bytes:
        raise InvalidInput(f"{what}: body is {len(body)} bytes; the limit is {limits.max_bytes}")


def nesting_depth(body: bytes, stop_above: int) -> int:
    """The deepest nesting of arrays and objects outside strings, counted without parsing;
    the count stops as soon as it passes `stop_above`."""
    depth = deepest = 0
    in_string = False
    for token in _TOKENS.findall(body):
        if token == b'"':
            in_string = not in_string
        elif in_string or len(token) == 2:
            continue
        elif token in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


def parse_json(body: bytes, what: str, limits: JsonLimits):
    """The JSON value of `body` within `limits`; InvalidInput naming the broken limit otherwise."""
    check_size(body, what, limits)
    depth = nesting_depth(body, limits.max_depth)
    if depth > limits.max_depth:
        raise InvalidInput(f"{what}: JSON nested more than {limits.max_depth} levels deep (the limit)")

    def number(text: str, convert):
        if len(text) > limits.max_number_chars:
            raise InvalidInput(f"{what}: a number of {len(text)} characters; the limit is {limits.max_number_chars}")
        return convert(text)

    def constant(name: str):
        raise InvalidInput(f"{what}: {name} is not a JSON number")

    try:
        return json.loads(body.decode("utf-8"), parse_int=lambda t: number(t, int),
                          parse_float=lambda t: number(t, float), parse_constant=constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"{what}: body is not valid JSON ({error.__class__.__name__})") from None
    except RecursionError:  # unreachable after the depth check; kept so no input can become a 500
        raise InvalidInput(f"{what}: JSON nested too deeply") from None


def parse_json_object(body: bytes, what: str, limits: JsonLimits) -> dict:
    value = parse_json(body, what, limits)
    if not isinstance(value, dict):
        raise InvalidInput(f"{what}: body must be a JSON object")
    return value


def bounded(value, max_depth: int = 32, max_items: int = 1000):
    """A copy of a parsed JSON value cut to `max_depth` levels and `max_items` entries per
    container (what is cut is replaced by a note), safe to serialise whatever arrived."""
    if max_depth <= 0:
        return "<cut: nested deeper>" if isinstance(value, (dict, list)) else value
    if isinstance(value, dict):
        items = list(value.items())
        kept = {str(k): bounded(v, max_depth - 1, max_items) for k, v in items[:max_items]}
        if len(items) > max_items:
            kept["<cut>"] = f"{len(items) - max_items} more entries"
        return kept
    if isinstance(value, list):
        kept = [bounded(v, max_depth - 1, max_items) for v in value[:max_items]]
        return kept + [f"<cut: {len(value) - max_items} more items>"] if len(value) > max_items else kept
    return value

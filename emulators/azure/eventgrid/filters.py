"""An event subscription's filter, as Event Grid applies it: event types, subject begins/ends
with (case-insensitive unless isSubjectCaseSensitive), and advanced filters (all must match;
any of a filter's values may). String comparisons of advanced filters are case-insensitive; a
"Not" operator on a key the event lacks matches, every other operator does not."""
from __future__ import annotations

from typing import Any

MISSING = object()

STRING_TESTS = {
    "StringIn": lambda actual, value: actual == value,
    "StringBeginsWith": lambda actual, value: actual.startswith(value),
    "StringEndsWith": lambda actual, value: actual.endswith(value),
    "StringContains": lambda actual, value: value in actual,
}
NEGATED = {"StringNotIn": "StringIn", "StringNotBeginsWith": "StringBeginsWith",
           "StringNotEndsWith": "StringEndsWith", "StringNotContains": "StringContains",
           "NumberNotIn": "NumberIn", "NumberNotInRange": "NumberInRange"}


def matches(event: dict[str, Any], spec: dict[str, Any]) -> bool:
    """Whether `event` (Event Grid schema) passes the subscription filter `spec` (ARM's `filter`)."""
    types = spec.get("includedEventTypes")
    if types and str(event.get("eventType", "")).lower() not in {t.lower() for t in types}:
        return False
    subject = str(event.get("subject", ""))
    begins, ends = spec.get("subjectBeginsWith") or "", spec.get("subjectEndsWith") or ""
    if not spec.get("isSubjectCaseSensitive"):
        subject, begins, ends = subject.lower(), begins.lower(), ends.lower()
    if not subject.startswith(begins) or not subject.endswith(ends):
        return False
    return all(advanced_match(event, f) for f in spec.get("advancedFilters") or [])


def advanced_match(event: dict[str, Any], spec: dict[str, Any]) -> bool:
    operator = spec.get("operatorType", "")
    actual = lookup(event, spec.get("key", ""))
    if operator in NEGATED:
        return actual is MISSING or not _positive(NEGATED[operator], actual, spec)
    if operator == "IsNullOrUndefined":
        return actual is MISSING or actual is None
    if operator == "IsNotNull":
        return actual is not MISSING and actual is not None
    if actual is MISSING:
        return False
    return _positive(operator, actual, spec)


def _positive(operator: str, actual: Any, spec: dict[str, Any]) -> bool:
    values = spec.get("values") or []
    if operator in STRING_TESTS:
        test = STRING_TESTS[operator]
        candidates = actual if isinstance(actual, list) else [actual]
        return any(test(str(c).lower(), str(v).lower()) for c in candidates for v in values)
    if operator == "BoolEquals":
        return actual is spec.get("value")
    number = _number(actual)
    if number is None:
        return False
    if operator == "NumberIn":
        return any(number == float(v) for v in values)
    if operator == "NumberInRange":
        return any(float(low) <= number <= float(high) for low, high in values)
    comparisons = {"NumberGreaterThan": number.__gt__, "NumberGreaterThanOrEquals": number.__ge__,
                   "NumberLessThan": number.__lt__, "NumberLessThanOrEquals": number.__le__}
    if operator in comparisons:
        return comparisons[operator](float(spec.get("value")))
    raise ValueError(f"unsupported advanced filter operator {operator!r}")


def lookup(event: dict[str, Any], key: str) -> Any:
    """The value at a dotted key (`subject`, `data.experimentName`); MISSING when absent."""
    value: Any = event
    for part in key.split("."):
        if not isinstance(value, dict):
            return MISSING
        found = next((k for k in value if k.lower() == part.lower()), None)
        if found is None:
            return MISSING
        value = value[found]
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None

"""NCRONTAB schedules as used by Azure Functions timer triggers.

Six fields ``{second} {minute} {hour} {day} {month} {day-of-week}``; the classic
five-field form (no seconds) is accepted too and fires at second 0. Each field takes
``*``, ``*/n``, ``a``, ``a-b``, ``a-b/n``, ``a/n`` and comma lists; months and weekdays
also take English names (``jan``, ``mon``...). Day-of-week 0 and 7 are both Sunday.
All times are UTC.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

# (name, low, high, names mapped to their numbers)
_FIELDS = [
    ("second", 0, 59, {}),
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day", 1, 31, {}),
    ("month", 1, 12, {name: i + 1 for i, name in enumerate(_MONTHS)}),
    ("day-of-week", 0, 7, {name: i for i, name in enumerate(_DAYS)}),
]


class CronError(ValueError):
    """The expression is not a valid NCRONTAB schedule."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule; ``next_after(t)`` gives the first firing strictly after ``t``."""

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    day_restricted: bool
    weekday_restricted: bool

    def matches(self, t: datetime) -> bool:
        return (
            t.second in self.seconds
            and t.minute in self.minutes
            and t.hour in self.hours
            and t.month in self.months
            and self._day_matches(t)
        )

    def _day_matches(self, t: datetime) -> bool:
        in_days = t.day in self.days
        in_weekdays = (t.isoweekday() % 7) in self.weekdays
        # Like cron: if both day fields are restricted, either one may match.
        if self.day_restricted and self.weekday_restricted:
            return in_days or in_weekdays
        return in_days and in_weekdays

    def next_after(self, t: datetime) -> datetime:
        """First time strictly after ``t`` (naive values are taken as UTC)."""
        if t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        t = t.astimezone(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)
        limit = t + timedelta(days=366 * 5)
        while t < limit:
            if t.month not in self.months:
                t = _first_of_next_month(t)
                continue
            if not self._day_matches(t):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0, second=0)
                continue
            if t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0, second=0)
                continue
            if t.minute not in self.minutes:
                t = (t + timedelta(minutes=1)).replace(second=0)
                continue
            if t.second not in self.seconds:
                t += timedelta(seconds=1)
                continue
            return t
        raise CronError(f"schedule {self.expression!r} never fires")


def _first_of_next_month(t: datetime) -> datetime:
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return t.replace(year=year, month=month, day=1, hour=0, minute=0, second=0)


def parse(expression: str) -> Schedule:
    """Parse a 6-field (or 5-field) NCRONTAB expression."""
    parts = expression.split()
    if len(parts) == 5:
        parts = ["0", *parts]
    if len(parts) != 6:
        raise CronError(f"expected 6 fields (or 5), got {len(parts)}: {expression!r}")
    values = [_parse_field(part, *spec) for part, spec in zip(parts, _FIELDS)]
    weekdays = frozenset(d % 7 for d in values[5])
    return Schedule(
        expression=expression,
        seconds=values[0],
        minutes=values[1],
        hours=values[2],
        days=values[3],
        months=values[4],
        weekdays=weekdays,
        day_restricted=parts[3] not in ("*", "?"),
        weekday_restricted=parts[5] not in ("*", "?"),
    )


def _parse_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    result: set[int] = set()
    for item in text.lower().split(","):
        if not item:
            raise CronError(f"empty item in {name} field {text!r}")
        range_part, _, step_part = item.partition("/")
        step = _number(step_part, name, {}) if step_part else 1
        if step < 1:
            raise CronError(f"step must be positive in {name} field {text!r}")
        if range_part in ("*", "?"):
            start, end = low, high
        elif "-" in range_part:
            a, b = range_part.split("-", 1)
            start, end = _number(a, name, names), _number(b, name, names)
        else:
            start = _number(range_part, name, names)
            end = high if step_part else start
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise CronError(f"{name} value out of range {low}-{high}: {item!r}")
        result.update(range(start, end + 1, step))
    return frozenset(result)


def _number(text: str, field: str, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise CronError(f"invalid {field} value {text!r}")
    return int(text)

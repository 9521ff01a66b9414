from datetime import datetime, timezone

import pytest

from devhost.ncrontab import CronError, parse

T0 = datetime(2024, 1, 31, 23, 59, 58, tzinfo=timezone.utc)  # a Wednesday


def nxt(expr: str, after: datetime = T0) -> datetime:
    return parse(expr).next_after(after)


def test_every_second_and_every_n_seconds():
    assert nxt("* * * * * *") == datetime(2024, 1, 31, 23, 59, 59, tzinfo=timezone.utc)
    assert nxt("*/5 * * * * *", datetime(2024, 1, 1, 0, 0, 1)) == datetime(2024, 1, 1, 0, 0, 5, tzinfo=timezone.utc)


def test_rolls_over_day_month_and_year():
    assert nxt("0 0 * * * *") == datetime(2024, 2, 1, 0, 0, 0, tzinfo=timezone.utc)
    assert nxt("0 0 0 1 1 *") == datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert nxt("0 30 9 29 2 *") == datetime(2024, 2, 29, 9, 30, tzinfo=timezone.utc)


def test_ranges_steps_lists_and_names():
    s = parse("0 0-30/15 8,17 * jan-mar mon-fri")
    assert s.minutes == {0, 15, 30} and s.hours == {8, 17} and s.months == {1, 2, 3}
    assert s.weekdays == {1, 2, 3, 4, 5}
    # Saturday 2024-02-03 is skipped to Monday 2024-02-05.
    assert s.next_after(datetime(2024, 2, 2, 17, 30, tzinfo=timezone.utc)) == datetime(2024, 2, 5, 8, 0, tzinfo=timezone.utc)
    assert parse("0 5/20 * * * *").minutes == {5, 25, 45}


def test_sunday_is_0_or_7_and_day_or_weekday():
    assert parse("0 0 0 * * 7").weekdays == {0}
    # Both day fields restricted: either matches (cron rule). 2024-02-01 is a Thursday, day 1.
    assert nxt("0 0 12 15 * thu") == datetime(2024, 2, 1, 12, tzinfo=timezone.utc)


def test_five_field_form_fires_at_second_zero():
    assert nxt("*/10 * * * *") == datetime(2024, 2, 1, 0, 0, 0, tzinfo=timezone.utc)


def test_naive_times_are_utc_and_result_is_strictly_after():
    t = datetime(2024, 1, 1, 0, 0, 0)
    assert parse("0 * * * * *").next_after(t) == datetime(2024, 1, 1, 0, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("expr", ["", "* * * *", "60 * * * * *", "* * 24 * * *", "* * * 0 * *",
                                  "*/0 * * * * *", "5-1 * * * * *", "x * * * * *", "* * * * foo *",
                                  "1,,2 * * * * *", "0 0 0 31 2 *"])
def test_invalid_expressions(expr):
    with pytest.raises(CronError):
        parse(expr).next_after(T0)

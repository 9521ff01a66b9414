"""The drift quality table (issue 12, item 4): false alarms at or below the stated rate at every size,
detection >= 95% for every listed shift at 5,000 rows and for the course shift at 1,000.

The windows go through the service's path (profile on the contract grid, projected onto the
baseline). The floor DRIFT_MIN_WINDOW_ROWS is set to 1 here so that 200-row windows are
judged at all (the service's default floor of 1,000 would call them insufficient_data).
200 unshifted windows per size: one binomial standard error at a 1% rate is 0.7 points, so
"within sampling error" is at most 1% + 2 x 0.7% = 2.4%. Windows up to 5,000 rows are drawn
without replacement from the 10,000 rows of diabetes-prod.csv, 50,000-row windows with
replacement; they overlap, so the error is if anything larger. The same table with every
size and shift, and more windows: bench/drift_quality.py.

    .venv/bin/python -m pytest tests/quality/test_drift_table.py -q -s   # prints the rates
"""
from __future__ import annotations

import pytest

from shared.domain.drift import DriftPolicy
from tests.quality.drift_table import SIZES, Table

FALSE_ALARM_WINDOWS, DETECTION_WINDOWS = 200, 40
STATED = DriftPolicy().false_alarm_rate


@pytest.fixture(scope="module")
def table():
    return Table(DriftPolicy(min_window_rows=1))


@pytest.mark.parametrize("size", SIZES)
def test_false_alarms_stay_at_the_stated_rate(table, size):
    rate = table.false_alarm_rate(size, FALSE_ALARM_WINDOWS)
    error = (STATED * (1 - STATED) / FALSE_ALARM_WINDOWS) ** 0.5
    print(f"\nfalse alarms at {size:,} rows: {rate:.1%} of {FALSE_ALARM_WINDOWS} windows "
          f"(stated {STATED:.0%}, one standard error {error:.1%})")
    assert rate <= STATED + 2 * error


@pytest.mark.parametrize("shift", list(Table.shift_names()))
def test_every_listed_shift_is_detected_at_5000_rows(table, shift):
    rate = table.detection_rate(shift, 5000, DETECTION_WINDOWS)
    print(f"\n{shift} at 5,000 rows: detected in {rate:.0%} of {DETECTION_WINDOWS} windows")
    assert rate >= 0.95


def test_the_course_shift_is_detected_at_1000_rows(table):
    rate = table.detection_rate(Table.COURSE, 1000, DETECTION_WINDOWS)
    print(f"\ncourse shift at 1,000 rows: detected in {rate:.0%} of {DETECTION_WINDOWS} windows")
    assert rate >= 0.95

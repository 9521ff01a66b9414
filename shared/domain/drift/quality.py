"""The data-quality signals of one feature in a window, each problem said in a sentence naming the column.

Signals: missing column or rows, empty values, non-numbers, infinities, values outside
the baseline range (unseen categories), a constant column. `usable` is False when a
window has rows but the feature has no value the statistics can use.
"""
from __future__ import annotations

import math
from typing import Any

from shared.domain.drift.baseline import CategoricalBaseline, NumericBaseline
from shared.domain.drift.policy import DriftPolicy
from shared.domain.drift.tallies import CategoricalTally, NumericTally


def numeric_quality(name: str, feature: NumericBaseline, tally: NumericTally, rows: int,
                    policy: DriftPolicy) -> dict[str, Any]:
    """The signals of a numeric feature, with the list of `problems`."""
    present = tally.present_rows
    valid = tally.valid
    empty = tally.nulls
    null_rate = empty / present if present else None
    out_of_range = int(tally.counts[0] + tally.counts[-1])
    signals: dict[str, Any] = {
        "kind": "numeric",
        "missing": rows > 0 and present == 0,
        "missing_rows": rows - present,
        "null_rate": null_rate,
        "null_count": empty,
        "out_of_range_rate": out_of_range / valid if valid else None,
        "out_of_range_count": out_of_range,
        "type_errors": tally.type_errors,
        "non_finite": tally.non_finite,
        "constant": bool(valid >= 2 and tally.min == tally.max and feature.min != feature.max),
        "unseen_categories": [],
        "usable": rows == 0 or valid > 0,
        "problems": [],
    }
    said = signals["problems"]
    _say_missing(said, name, rows, present)
    if present and valid == 0:
        what = []
        if empty:
            what.append(f"{empty} empty")
        if tally.type_errors:
            what.append(f"{tally.type_errors} not numbers (e.g. {', '.join(tally.examples)})")
        if tally.non_finite:
            what.append(f"{tally.non_finite} infinite")
        said.append(f"column {name!r} has no usable value: " + ", ".join(what))
        return signals
    baseline_null_rate = feature.null_count / max(feature.count + feature.null_count, 1)
    if present and null_rate is not None and null_rate > policy.max_null_rate and null_rate > baseline_null_rate:
        said.append(f"column {name!r}: {null_rate:.1%} of values are empty (limit {policy.max_null_rate:.0%})")
    if tally.type_errors:
        said.append(f"column {name!r}: {tally.type_errors} values are not numbers (e.g. {', '.join(tally.examples)})")
    if tally.non_finite:
        said.append(f"column {name!r}: {tally.non_finite} values are infinite")
    if signals["constant"]:
        said.append(f"column {name!r} is constant ({_fmt(tally.min)} in all {valid} values; "
                    f"baseline ranges from {_fmt(feature.min)} to {_fmt(feature.max)})")
    if valid and out_of_range / valid > policy.max_out_of_range_rate:
        said.append(f"column {name!r}: {out_of_range / valid:.1%} of values are outside the baseline range "
                    f"[{_fmt(feature.min)}, {_fmt(feature.max)}]")
    return signals


def categorical_quality(name: str, feature: CategoricalBaseline, tally: CategoricalTally, rows: int,
                        policy: DriftPolicy) -> dict[str, Any]:
    """The signals of a categorical feature, with the list of `problems`."""
    present = tally.present_rows
    valid = tally.valid
    unseen_count = tally.unseen_count
    seen = len([c for c in tally.counts if c]) + len(tally.unseen)
    signals: dict[str, Any] = {
        "kind": "categorical",
        "missing": rows > 0 and present == 0,
        "missing_rows": rows - present,
        "null_rate": tally.nulls / present if present else None,
        "null_count": tally.nulls,
        "out_of_range_rate": unseen_count / valid if valid else None,
        "out_of_range_count": unseen_count,
        "type_errors": 0,
        "non_finite": 0,
        "constant": bool(valid >= 2 and seen == 1 and len(feature.categories) > 1),
        "unseen_categories": sorted(tally.unseen, key=lambda k: -tally.unseen[k]),
        "usable": rows == 0 or valid > 0,
        "problems": [],
    }
    said = signals["problems"]
    _say_missing(said, name, rows, present)
    if present and valid == 0:
        said.append(f"column {name!r} has no usable value: {tally.nulls} empty")
        return signals
    if present and tally.nulls / present > policy.max_null_rate:
        said.append(f"column {name!r}: {tally.nulls / present:.1%} of values are empty (limit {policy.max_null_rate:.0%})")
    if unseen_count and feature.other_count == 0:
        names = ", ".join(repr(k) for k in signals["unseen_categories"][:5])
        more = "" if len(tally.unseen) <= 5 and not tally.unseen_other else ", …"
        said.append(f"column {name!r}: {unseen_count} values in categories the baseline never saw ({names}{more})")
    if signals["constant"]:
        said.append(f"column {name!r} is constant (one category in all {valid} values)")
    return signals


def _say_missing(said: list[str], name: str, rows: int, present: int) -> None:
    if rows and present == 0:
        said.append(f"column {name!r} is missing from the window")
    elif rows - present:
        said.append(f"column {name!r} is missing in {rows - present} of {rows} rows")


def _fmt(value: float) -> str:
    if value is None or not math.isfinite(value):
        return str(value)
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else f"{value:.6g}"

"""The server-drawn SVG charts: well-formed, labelled (title + desc), scalable, escaped, and
plotting exactly the finite points they are given, where the axes say."""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from blueprints.pages import svg

HOSTILE = "<script>alert('x')</script> & \"quoted\" ' onload='x' Müller 🩺"
ROC = [[0, 0], [0.1, 0.5], [0.3, 0.8], [1, 1]]
BINS = [{"lower": i / 10, "upper": (i + 1) / 10, "rows": 10 * (i + 1), "mean_probability": i / 10 + 0.05,
         "observed_rate": i / 10 + 0.04} for i in range(10)]


def charts() -> dict[str, str]:
    return {
        "roc": svg.roc_chart(ROC, [[0, 0], [0.2, 0.5], [1, 1]], ident="roc", candidate_label=HOSTILE,
                             champion_label="champion v6", desc=HOSTILE),
        "reliability": svg.reliability_chart(BINS, BINS[:5], ident="cal", candidate_label="v7", champion_label=HOSTILE,
                                             desc="calibration"),
        "history": svg.history_chart([0.85, None, 0.84, float("nan"), 0.83], ident="perf", title=HOSTILE, desc="d",
                                     y_label="AUC", first=HOSTILE, last="2026-03-01", hollow=[False, False, True]),
        "bars": svg.bar_chart([0, 2, 1], ident="drift", title="drift", desc=HOSTILE, y_label="features",
                              flagged=[False, True, True]),
        "confusion": svg.confusion_chart({"tp": 40, "fp": 10, "tn": 45, "fn": 5}, ident="cm", title=HOSTILE, desc="d"),
    }


@pytest.mark.parametrize("name", sorted(charts()))
def test_every_chart_is_a_well_formed_labelled_scalable_image(name):
    text = charts()[name]
    root = ET.fromstring(text)  # html.escape's entities are XML's too: a parse error is an escaping bug
    assert root.tag == "svg" and root.get("role") == "img" and root.get("width") == "100%"
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox"))
    title, desc = root.find("title"), root.find("desc")
    assert list(root)[:2] == [title, desc] and title.text and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "<script" not in text.lower() and "http" not in text and "style=" not in text
    assert not re.search(r"\b(nan|inf)\b", text)


def test_hostile_labels_appear_only_escaped():
    for text in charts().values():
        assert "<script>" not in text and "onload='x'" not in text
    roc = charts()["roc"]
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in roc
    assert ET.fromstring(roc).find("desc").text == HOSTILE  # the text alternative reads as given


def test_a_chart_id_outside_its_grammar_is_refused():
    for ident in ("Roc", "a b", "x'y", "", "1a"):
        with pytest.raises(ValueError):
            svg.roc_chart(ROC, ident=ident, candidate_label="v1", desc="d")


def _paths(text: str) -> list[list[tuple[float, float]]]:
    return [[(float(x), float(y)) for x, y in re.findall(r"([\d.]+) ([\d.]+)", path.get("d"))]
            for path in ET.fromstring(text).iter("path") if path.get("stroke") in (svg.CANDIDATE, svg.CHAMPION)]


def test_roc_points_land_where_the_axes_say_and_the_diagonal_is_drawn():
    text = svg.roc_chart(ROC, ident="roc", candidate_label="v7", desc="d")
    (curve,) = _paths(text)
    frame = svg._Frame(420, 360, (0, 1), (0, 1))
    assert curve[0] == (frame.x0, frame.y0) and curve[-1] == (frame.x1, frame.y1)
    assert curve[1] == pytest.approx((frame.x0 + 0.1 * (frame.x1 - frame.x0), frame.y0 - 0.5 * (frame.y0 - frame.y1)),
                                     abs=0.06)
    diagonal = [line for line in ET.fromstring(text).iter("line") if line.get("stroke-dasharray") == "2 3"]
    assert len(diagonal) == 1 and float(diagonal[0].get("x1")) == frame.x0 and float(diagonal[0].get("y2")) == frame.y1
    assert len(_paths(svg.roc_chart(ROC, ROC, ident="roc", candidate_label="a", champion_label="b", desc="d"))) == 2


def test_points_without_a_finite_value_are_left_out_and_marked_hollow_as_asked():
    text = charts()["history"]
    (line,) = _paths(text)
    assert len(line) == 3  # None and NaN left out
    circles = list(ET.fromstring(text).iter("circle"))
    # `hollow` goes with the values given: the third value (0.84) is the second point drawn
    assert [c.get("fill") == "#fff" for c in circles] == [False, True, False]
    bins = [*BINS[:3], {"lower": 0.3, "upper": 0.4, "rows": 0, "mean_probability": None, "observed_rate": None}]
    (reliability,) = _paths(svg.reliability_chart(bins, ident="cal", candidate_label="v", desc="d"))
    assert len(reliability) == 3  # the empty bin is not a point


def test_bars_and_confusion_cells_show_their_counts():
    bars = [r for r in ET.fromstring(charts()["bars"]).iter("rect") if r.get("fill") in (svg.CANDIDATE, svg.FLAG)]
    assert [r.get("fill") == svg.FLAG for r in bars] == [False, True, True]
    assert float(bars[1].get("height")) == pytest.approx(2 * float(bars[2].get("height")), abs=0.1)
    texts = [t.text for t in ET.fromstring(charts()["confusion"]).iter("text")]
    assert {"40", "10", "45", "5"} <= set(texts) and "true pos. 40%" in texts


@pytest.mark.parametrize("low, high", [(0, 1), (0.78, 0.86), (0.8301, 0.8315), (0, 7), (-0.02, 0.03)])
def test_ticks_are_round_and_inside_the_range(low, high):
    ticks = svg.nice_ticks(low, high)
    assert 2 <= len(ticks) <= 7 and all(low - 1e-9 <= t <= high + 1e-9 for t in ticks)
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1
    step = steps.pop()
    assert any(math.isclose(step / 10 ** math.floor(math.log10(step)), f) for f in (1, 2, 2.5, 5))
    labels = [svg._tick_label(t, ticks) for t in ticks]
    assert len(set(labels)) == len(labels)


def test_one_point_sits_off_the_axis_with_its_date_once_in_the_middle():
    text = svg.history_chart([0.85], ident="one", title="t", desc="d", y_label="AUC", first="2026-12-02",
                             last="2026-12-02")
    root = ET.fromstring(text)
    (circle,) = root.iter("circle")
    frame = svg._Frame(420, 190, (0, 1), (0, 1))
    assert frame.x0 + 50 < float(circle.get("cx")) < frame.x1 - 50, "the point is inside the plot, not on the y axis"
    assert float(circle.get("cx")) == pytest.approx((frame.x0 + frame.x1) / 2, abs=0.1)
    assert [t.text for t in root.iter("text")].count("2026-12-02") == 1
    bars = ET.fromstring(svg.bar_chart([2], ident="b", title="t", desc="d", y_label="n", first="2026-12-02",
                                       last="2026-12-02"))
    assert [t.text for t in bars.iter("text")].count("2026-12-02") == 1
    several = ET.fromstring(svg.history_chart([0.8, 0.9], ident="two", title="t", desc="d", y_label="AUC",
                                              first="2026-12-01", last="2026-12-02"))
    assert {"2026-12-01", "2026-12-02"} <= {t.text for t in several.iter("text")}

"""shared/domain/drift/report.py: one inline SVG per feature, statistics, verdict, escaping."""
from __future__ import annotations

import json
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from shared.domain.drift import DriftPolicy, WindowAccumulator, baseline_from_profile, check_drift, render_html
from training.baseline_profile import build_profile

ROOT = Path(__file__).resolve().parents[2]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [v for k, v in attrs if k == "href"]


def result_for(frame: pd.DataFrame, window: pd.DataFrame):
    baseline = baseline_from_profile(build_profile(frame))
    accumulator = WindowAccumulator(baseline)
    accumulator.add({name: window[name].to_numpy() for name in window.columns})
    return check_drift(baseline, accumulator, DriftPolicy())


def test_one_svg_per_feature_with_statistics_and_verdict():
    dev = pd.read_csv(ROOT / "data" / "diabetes-dev.csv").drop(columns=["PatientID", "Diabetic"])
    prod = pd.read_csv(ROOT / "data" / "diabetes-prod.csv").drop(columns=["PatientID", "Diabetic"]).head(2000)
    shifted = prod.assign(Pregnancies=prod.Pregnancies + 1, Age=prod.Age * 1.2, BMI=prod.BMI * 1.1)
    result = result_for(dev, shifted)
    page = render_html(result, "Drift check 2026-06-01 12:00", links={"JSON result": "https://example.org/r.json"})
    parser = _Tags()
    parser.feed(page)
    assert parser.tags.count("svg") == 8 == page.count("<svg")
    assert "drift</span>" in page and escape(result.reason) in page
    assert "Age — drifted" in page and "PlasmaGlucose — no drift" in page
    assert f"PSI {result.features['Age']['psi']:.3f}".rstrip("0") in page
    assert parser.hrefs == ["https://example.org/r.json"]
    # the report can be rendered again from the stored JSON form
    again = render_html(json.loads(json.dumps(result.to_dict())), "Drift check 2026-06-01 12:00",
                        links={"JSON result": "https://example.org/r.json"})
    assert again == page


def test_names_values_and_links_are_escaped():
    rng = np.random.default_rng(0)
    evil = "<script>alert('x')</script>"
    frame = pd.DataFrame({evil: rng.normal(0, 1, 2000), "cat&dog": rng.choice(["<b>a</b>", "b"], 2000)})
    window = pd.DataFrame({evil: rng.normal(0, 1, 1500), "cat&dog": rng.choice(["<i>new</i>", "b"], 1500)})
    result = result_for(frame, window)
    page = render_html(result, "<title>", links={"<x>": "javascript:alert(1)", "ok": "/api/drift?x=1&y=\"2\""})
    assert "<script>" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;" in page and "cat&amp;dog" in page and "&lt;i&gt;new&lt;/i&gt;" in page
    assert 'href="javascript' not in page and "javascript:alert(1)" in page  # shown as text only
    assert 'href="/api/drift?x=1&amp;y=&quot;2&quot;"' in page
    parser = _Tags()
    parser.feed(page)
    assert parser.tags.count("svg") == 2 and "script" not in parser.tags


def test_data_quality_and_empty_windows_render():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(0, 1, 500), "b": rng.integers(0, 9, 500)})
    baseline = baseline_from_profile(build_profile(frame))
    empty = check_drift(baseline, WindowAccumulator(baseline), DriftPolicy())
    page = render_html(empty, "empty")
    assert "insufficient data" in page and page.count("<svg") == 2
    window = WindowAccumulator(baseline)
    window.add({"a": [float("inf")] * 1200})
    broken = check_drift(baseline, window, DriftPolicy())
    page = render_html(broken, "broken")
    assert broken.verdict == "data_quality" and "column &#x27;b&#x27; is missing from the window" in page

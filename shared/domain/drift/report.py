"""The HTML report of a drift check: verdict, data-quality problems, and per feature one
inline-SVG plot (reference vs current share over the baseline bins) with its statistics.

Standard library only; every name and value from the data is html-escaped; a link whose
address is not http(s) or relative is shown as text. The page is self-contained (no
script, no external resource), so it can be stored as a blob and opened anywhere.
"""
from __future__ import annotations

import math
from html import escape
from typing import Any, Mapping

__all__ = ["render_html"]

_WIDTH, _HEIGHT = 560, 220
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 44, 12, 24, 58
_REFERENCE_COLOUR, _CURRENT_COLOUR = "#8aa4c8", "#e07b39"
_VERDICT_COLOURS = {"drift": "#c0392b", "no_drift": "#27864a", "insufficient_data": "#7f8c8d", "data_quality": "#b7791f"}
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:1.4em;margin-bottom:4px}
.verdict{display:inline-block;padding:4px 12px;border-radius:4px;color:#fff;font-weight:600}
.muted{color:#666}
table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right;font-size:.9em}
th{background:#f4f4f4}
td.name,th.name{text-align:left}
tr.drifted td{background:#fdecea}
.grid{display:flex;flex-wrap:wrap;gap:16px}
.feature{border:1px solid #ddd;border-radius:6px;padding:8px 12px;width:580px}
.feature.drifted{border-color:#c0392b}
.feature h3{margin:4px 0;font-size:1.05em}
.problems li{color:#8a4b00}
.key{display:inline-block;width:12px;height:12px;vertical-align:middle;margin:0 4px 0 12px}
"""


def render_html(result: Any, title: str, links: Mapping[str, str] | None = None,
                windows: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The report page of a `DriftResult` (or its `to_dict()` form); `windows`: the verdicts of every
    window of the check by name (rows, files, verdict, drifted_features), shown as a table."""
    data = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    verdict = str(data.get("verdict", ""))
    features: Mapping[str, Any] = data.get("features") or {}
    quality: Mapping[str, Any] = data.get("quality") or {}
    policy: Mapping[str, Any] = data.get("policy") or {}
    drifted = list(data.get("drifted_features") or [])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p><span class="verdict" style="background:{_VERDICT_COLOURS.get(verdict, "#555")}">'
        f"{escape(verdict.replace('_', ' '))}</span> {escape(str(data.get('reason', '')))}</p>",
        f'<p class="muted">{_int(data.get("rows"))} rows in the window; '
        f"{len(drifted)} of {len(features)} features drifted ({_pct(data.get('drifted_share'))}).</p>",
    ]
    if windows:
        parts.append(_windows_table(windows))
    if links:
        items = []
        for label, url in links.items():
            url = str(url)
            if url.startswith(("http://", "https://", "/", "./", "../")) or ("://" not in url and ":" not in url.split("/")[0]):
                items.append(f'<li><a href="{escape(url, quote=True)}">{escape(str(label))}</a></li>')
            else:
                items.append(f"<li>{escape(str(label))}: {escape(url)}</li>")
        parts.append("<h2>Links</h2><ul>" + "".join(items) + "</ul>")
    problems = list(data.get("problems") or [])
    parts.append("<h2>Data quality</h2>")
    if problems:
        parts.append('<ul class="problems">' + "".join(f"<li>{escape(str(p))}</li>" for p in problems) + "</ul>")
    else:
        parts.append('<p class="muted">No data-quality problem found.</p>')
    parts.append(_summary_table(features, quality, policy))
    if policy:
        share = policy.get("drifted_share")
        parts.append(
            '<p class="muted">Rules: a feature drifts when at least '
            f"{escape(str(policy.get('votes_needed')))} of its statistics exceed both the value noise alone "
            f"reaches at the false-alarm rate {_num(policy.get('false_alarm_rate'))} per check (shared by all "
            f"features and tests) and a minimum effect (PSI {_num(policy.get('psi_threshold'))}, KS "
            f"{_num(policy.get('ks_threshold'))}, JS {_num(policy.get('js_threshold'))}); the dataset drifts when "
            + ("one feature drifts" if share is None else f"at least {_pct(share)} of the features drift")
            + f"; windows under {_int(policy.get('min_window_rows'))} rows are not judged.</p>"
        )
    parts.append(
        f'<h2>Distributions</h2><p class="muted"><span class="key" style="background:{_REFERENCE_COLOUR}"></span>'
        f'reference (baseline)<span class="key" style="background:{_CURRENT_COLOUR}"></span>current window '
        "— share of values per baseline bin</p>"
    )
    parts.append('<div class="grid">')
    for name, stats in features.items():
        parts.append(_feature_block(str(name), stats or {}, quality.get(name) or {}))
    parts.append("</div></body></html>")
    return "\n".join(parts)


def _summary_table(features: Mapping[str, Any], quality: Mapping[str, Any], policy: Mapping[str, Any]) -> str:
    rows = [
        "<table><tr><th class=\"name\">feature</th><th>PSI</th><th>KS</th><th>JS</th><th>votes</th>"
        "<th>drifted</th><th>empty</th><th>out of range</th><th>type errors</th><th>infinite</th></tr>"
    ]
    for name, stats in features.items():
        q = quality.get(name) or {}
        css = ' class="drifted"' if stats.get("drifted") else ""
        rows.append(
            f"<tr{css}><td class=\"name\">{escape(str(name))}</td>"
            f"<td>{_num(stats.get('psi'))}</td><td>{_num(stats.get('ks'))}</td><td>{_num(stats.get('js'))}</td>"
            f"<td>{_int(stats.get('votes'))}</td><td>{'yes' if stats.get('drifted') else 'no'}</td>"
            f"<td>{_pct(q.get('null_rate'))}</td><td>{_pct(q.get('out_of_range_rate'))}</td>"
            f"<td>{_int(q.get('type_errors'))}</td><td>{_int(q.get('non_finite'))}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _windows_table(windows: Mapping[str, Mapping[str, Any]]) -> str:
    rows = "".join(
        f'<tr class="{"drifted" if w.get("verdict") == "drift" else ""}"><td class="name">'
        f'{escape(str(name).replace("_", " "))}</td><td>{_int(w.get("rows"))}</td><td>{_int(w.get("files"))}</td>'
        f'<td class="name">{escape(str(w.get("verdict", "")).replace("_", " "))}</td>'
        f'<td class="name">{escape(", ".join(map(str, w.get("drifted_features") or [])))}</td></tr>'
        for name, w in windows.items())
    return ('<h2>Windows</h2><table><tr><th class="name">window</th><th>rows</th><th>files</th>'
            f'<th class="name">verdict</th><th class="name">drifted</th></tr>{rows}</table>')


def _feature_block(name: str, stats: Mapping[str, Any], quality: Mapping[str, Any]) -> str:
    drifted = bool(stats.get("drifted"))
    reference = stats.get("reference") or {}
    current = stats.get("current") or {}
    labels = _bin_labels(reference)
    head = (
        f'<div class="feature{" drifted" if drifted else ""}"><h3>{escape(name)} — '
        f"{'drifted' if drifted else 'no drift'}</h3>"
        f'<div class="muted">PSI {_num(stats.get("psi"))} · KS {_num(stats.get("ks"))} · '
        f'JS {_num(stats.get("js"))} · votes {_int(stats.get("votes"))} · '
        f'reference {_int(reference.get("rows"))} rows'
        + (f", mean {_num(reference.get('mean'))}" if reference.get("mean") is not None else "")
        + f' · current {_int(current.get("rows"))} rows'
        + (f", mean {_num(current.get('mean'))}" if current.get("mean") is not None else "")
        + "</div>"
    )
    unseen = quality.get("unseen_categories") or []
    extra = ""
    if unseen:
        extra = '<div class="muted">unseen categories: ' + escape(", ".join(str(u) for u in unseen[:10])) + "</div>"
    return head + _svg(name, labels, reference.get("shares") or [], current.get("shares") or []) + extra + "</div>"


def _bin_labels(reference: Mapping[str, Any]) -> list[str]:
    if "categories" in reference:
        return [str(c) for c in reference["categories"]]
    edges = list(reference.get("edges") or [])
    if len(edges) < 2:
        return []
    n = len(edges) - 1
    labels = []
    for i in range(n):
        low = "" if i == 0 else _num(edges[i], 4)
        high = "" if i == n - 1 else _num(edges[i + 1], 4)
        labels.append(f"<{high}" if not low and high else f"≥{low}" if low and not high else f"{low}–{high}" if low else "all")
    return labels


def _svg(name: str, labels: list[str], reference: list[float], current: list[float]) -> str:
    count = max(len(reference), len(current), 1)
    plot_w = _WIDTH - _MARGIN_LEFT - _MARGIN_RIGHT
    plot_h = _HEIGHT - _MARGIN_TOP - _MARGIN_BOTTOM
    values = [v for v in (*reference, *current) if isinstance(v, (int, float)) and math.isfinite(v)]
    top = max(values, default=0.0)
    top = max(top * 1.1, 0.01)
    slot = plot_w / count
    bar = max(slot * 0.38, 1.0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="{escape(name, quote=True)}: reference vs current">',
        f"<title>{escape(name)}: reference vs current share per bin</title>",
    ]
    for i in range(5):  # horizontal grid and y labels
        share = top * i / 4
        y = _MARGIN_TOP + plot_h - plot_h * i / 4
        out.append(f'<line x1="{_MARGIN_LEFT}" y1="{y:.1f}" x2="{_WIDTH - _MARGIN_RIGHT}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{_MARGIN_LEFT - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end" fill="#666">{share:.0%}</text>')
    for i in range(count):
        x0 = _MARGIN_LEFT + i * slot + slot * 0.1
        for j, (series, colour) in enumerate(((reference, _REFERENCE_COLOUR), (current, _CURRENT_COLOUR))):
            value = series[i] if i < len(series) and isinstance(series[i], (int, float)) and math.isfinite(series[i]) else 0.0
            height = plot_h * value / top
            x = x0 + j * bar
            y = _MARGIN_TOP + plot_h - height
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" fill="{colour}">'
                       f"<title>{'reference' if j == 0 else 'current'} {value:.1%}</title></rect>")
        if i < len(labels):
            cx = _MARGIN_LEFT + (i + 0.5) * slot
            cy = _MARGIN_TOP + plot_h + 10
            text = labels[i] if len(labels[i]) <= 16 else labels[i][:15] + "…"
            out.append(f'<text x="{cx:.1f}" y="{cy:.1f}" font-size="9" fill="#444" text-anchor="end" '
                       f'transform="rotate(-35 {cx:.1f} {cy:.1f})">{escape(text)}</text>')
    out.append(f'<line x1="{_MARGIN_LEFT}" y1="{_MARGIN_TOP + plot_h}" x2="{_WIDTH - _MARGIN_RIGHT}" '
               f'y2="{_MARGIN_TOP + plot_h}" stroke="#999"/>')
    out.append("</svg>")
    return "".join(out)


def _num(value: Any, digits: int = 3) -> str:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "–"
    if isinstance(value, int) or (value == int(value) and abs(value) < 1e12):
        return str(int(value))
    return f"{value:.{digits}g}" if abs(value) >= 10 ** digits or abs(value) < 10 ** -digits else f"{value:.{digits}f}".rstrip("0").rstrip(".")


def _int(value: Any) -> str:
    return "–" if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) else f"{int(value):,}"


def _pct(value: Any) -> str:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "–"
    return f"{value:.1%}"

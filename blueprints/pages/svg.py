"""Charts as inline SVG, drawn on the server: no script, no outside resource. Each is an
<svg role="img"> whose <title> and <desc> are its text alternative; viewBox + width 100% let it
scale to its column. Every label is escaped, every coordinate a finite number."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

from blueprints.pages.text import esc, finite

INK, MUTED, GRID, AXIS = "#1b2430", "#5b6675", "#e4e8ec", "#4a5360"
CANDIDATE, CHAMPION, FLAG = "#1f4e79", "#b0641a", "#a11d1d"
DASHES = {"candidate": "", "champion": "6 4"}
COLOURS = {"candidate": CANDIDATE, "champion": CHAMPION}
_IDENT = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
FONT = "font-family='system-ui,sans-serif'"


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence  # (x, y) pairs; pairs with a missing or non-finite value are left out
    role: str = "candidate"  # candidate | champion: colour and dash
    markers: bool = False
    hollow: Sequence[bool] = ()  # per point: an open marker (e.g. an estimated, not a labelled, value)


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(ident: str, title: str, desc: str, width: int, height: int) -> str:
    if not _IDENT.match(ident):
        raise ValueError(f"chart id {ident!r} must be lower-case letters, digits and '-'")
    return (f"<svg role='img' aria-labelledby='{ident}-t {ident}-d' viewBox='0 0 {width} {height}' width='100%' "
            f"preserveAspectRatio='xMidYMid meet' {FONT} font-size='12' fill='{INK}'>"
            f"<title id='{ident}-t'>{esc(title)}</title><desc id='{ident}-d'>{esc(desc)}</desc>")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values covering [low, high]."""
    if not high > low:
        high = low + 1
    step = 10 ** math.floor(math.log10((high - low) / count))
    for factor in (1, 2, 2.5, 5, 10):
        if (high - low) / (step * factor) <= count:
            step *= factor
            break
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 10))
        value += step
    return ticks


def _tick_label(value: float, ticks: list[float]) -> str:
    """As many decimals as the tick step needs (0.2 → 1, 0.02 → 2, 2.5 → 1), at most 4."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    places = next((p for p in range(5) if abs(round(step, p) - step) < 1e-9), 4)
    return f"{value:.{places}f}"


class _Frame:
    """Data → viewBox coordinates for one plot area."""

    def __init__(self, width, height, x_range, y_range, left=60, right=16, top=30, bottom=42):
        self.x0, self.x1 = left, width - right
        self.y0, self.y1 = height - bottom, top
        self.xr, self.yr = x_range, y_range

    def x(self, value: float) -> float:
        low, high = self.xr
        return self.x0 + (min(max(value, low), high) - low) / (high - low) * (self.x1 - self.x0)

    def y(self, value: float) -> float:
        low, high = self.yr
        return self.y0 - (min(max(value, low), high) - low) / (high - low) * (self.y0 - self.y1)

    def axes(self, x_ticks, y_ticks, x_label, y_label, x_names=None) -> str:
        parts = []
        for t in y_ticks:
            y = _f(self.y(t))
            parts.append(f"<line x1='{self.x0}' x2='{self.x1}' y1='{y}' y2='{y}' stroke='{GRID}'/>"
                         f"<text x='{self.x0 - 6}' y='{y}' text-anchor='end' dominant-baseline='middle' "
                         f"fill='{MUTED}' font-size='11'>{esc(_tick_label(t, y_ticks))}</text>")
        for i, t in enumerate(x_ticks):
            x = _f(self.x(t))
            name = x_names[i] if x_names else _tick_label(t, x_ticks)
            anchor = ("start" if i == 0 else "end" if i == len(x_ticks) - 1 else "middle") if x_names and len(
                x_ticks) > 1 else "middle"
            parts.append(f"<line x1='{x}' x2='{x}' y1='{self.y0}' y2='{self.y0 + 4}' stroke='{AXIS}'/>"
                         f"<text x='{x}' y='{self.y0 + 16}' text-anchor='{anchor}' fill='{MUTED}' font-size='11'>"
                         f"{esc(name)}</text>")
        parts.append(f"<path d='M{self.x0} {self.y1}V{self.y0}H{self.x1}' fill='none' stroke='{AXIS}'/>")
        parts.append(f"<text x='{_f((self.x0 + self.x1) / 2)}' y='{self.y0 + 34}' text-anchor='middle'>{esc(x_label)}</text>")
        mid = _f((self.y0 + self.y1) / 2)
        parts.append(f"<text x='12' y='{mid}' text-anchor='middle' transform='rotate(-90 12 {mid})'>{esc(y_label)}</text>")
        return "".join(parts)


def _clean(points) -> list[tuple[float, float]]:
    pairs = []
    for point in points or ():
        if isinstance(point, (list, tuple)) and len(point) == 2:
            x, y = finite(point[0]), finite(point[1])
            if x is not None and y is not None:
                pairs.append((x, y))
    return pairs


def _legend(series: Sequence[Series], x: float, y: float) -> str:
    parts = []
    for item in series:
        colour, dash = COLOURS.get(item.role, INK), DASHES.get(item.role, "")
        dash_attr = f" stroke-dasharray='{dash}'" if dash else ""
        parts.append(f"<line x1='{_f(x)}' x2='{_f(x + 22)}' y1='{y}' y2='{y}' stroke='{colour}' stroke-width='2.5'"
                     f"{dash_attr}/><text x='{_f(x + 28)}' y='{y}' dominant-baseline='middle'>{esc(item.label)}</text>")
        x += 40 + 6.6 * len(item.label)
    return "".join(parts)


def _series(frame: _Frame, item: Series) -> str:
    points = _clean(item.points)
    if not points:
        return ""
    colour, dash = COLOURS.get(item.role, INK), DASHES.get(item.role, "")
    dash_attr = f" stroke-dasharray='{dash}'" if dash else ""
    path = "M" + "L".join(f"{_f(frame.x(x))} {_f(frame.y(y))}" for x, y in points)
    out = f"<path d='{path}' fill='none' stroke='{colour}' stroke-width='2.2' stroke-linejoin='round'{dash_attr}/>"
    if item.markers:
        hollow = list(item.hollow) + [False] * len(points)
        shape = "<circle cx='{}' cy='{}' r='3.4' fill='{}' stroke='{}' stroke-width='1.6'/>"
        out += "".join(shape.format(_f(frame.x(x)), _f(frame.y(y)), "#fff" if hollow[i] else colour, colour)
                       for i, (x, y) in enumerate(points))
    return out


def line_chart(series: Sequence[Series], *, ident: str, title: str, desc: str, x_label: str, y_label: str,
               x_range=(0.0, 1.0), y_range=(0.0, 1.0), diagonal: bool = False, width: int = 420, height: int = 360,
               x_names: Sequence[str] | None = None, x_ticks: Sequence[float] | None = None,
               legend: bool = True) -> str:
    """Lines of (x, y) points on axes with ticks; `diagonal` draws y = x (chance / perfect calibration)."""
    frame = _Frame(width, height, x_range, y_range)
    xt = list(x_ticks) if x_ticks is not None else nice_ticks(*x_range)
    yt = nice_ticks(*y_range)
    body = frame.axes(xt, yt, x_label, y_label, list(x_names) if x_names else None)
    if diagonal:
        body += (f"<line x1='{_f(frame.x(x_range[0]))}' y1='{_f(frame.y(y_range[0]))}' x2='{_f(frame.x(x_range[1]))}' "
                 f"y2='{_f(frame.y(y_range[1]))}' stroke='{MUTED}' stroke-width='1' stroke-dasharray='2 3'/>")
    body += "".join(_series(frame, item) for item in series)
    if legend:
        body += _legend(series, frame.x0 - 20, 14)
    return _open(ident, title, desc, width, height) + body + "</svg>"


def roc_chart(candidate, champion=None, *, ident: str, candidate_label: str, champion_label: str = "",
              desc: str) -> str:
    """ROC curves ([fpr, tpr] pairs) of both versions on the same rows, with the chance diagonal."""
    series = [Series(candidate_label, candidate, "candidate")]
    if champion:
        series.append(Series(champion_label, champion, "champion"))
    return line_chart(series, ident=ident, title="ROC curve", desc=desc, x_label="False positive rate (1 − specificity)",
                      y_label="True positive rate (sensitivity)", diagonal=True)


def reliability_chart(candidate_bins, champion_bins=None, *, ident: str, candidate_label: str,
                      champion_label: str = "", desc: str) -> str:
    """Observed rate against mean predicted probability per bin (bins without rows left out), with y = x."""
    def pairs(bins):
        return [(b.get("mean_probability"), b.get("observed_rate")) for b in bins or () if isinstance(b, dict)
                and b.get("rows")]

    series = [Series(candidate_label, pairs(candidate_bins), "candidate", markers=True)]
    if champion_bins:
        series.append(Series(champion_label, pairs(champion_bins), "champion", markers=True))
    return line_chart(series, ident=ident, title="Calibration (reliability diagram)", desc=desc,
                      x_label="Mean predicted probability", y_label="Observed rate of diabetes", diagonal=True)


def history_chart(values: Sequence, *, ident: str, title: str, desc: str, y_label: str, first: str = "",
                  last: str = "", hollow: Sequence[bool] = (), y_range=None, width: int = 420, height: int = 190) -> str:
    """A small chart of a value over successive checks (oldest left); open markers where `hollow`."""
    points = [(float(i), finite(v)) for i, v in enumerate(values)]
    known = [v for _, v in points if v is not None]
    if y_range is None:
        low, high = (min(known), max(known)) if known else (0.0, 1.0)
        pad = (high - low) * 0.15 or max(abs(high) * 0.05, 0.01)
        y_range = (low - pad, high + pad)
    n = max(len(points) - 1, 1)
    names = [first or "oldest", last or "newest"]
    x_range, x_ticks = (0.0, float(n)), [0.0, float(n)]
    if len(points) == 1 or (first and first == last):
        # One point, or all on one day: the point(s) off the axis, the date once, in the middle.
        x_range = (-0.5, 0.5) if len(points) == 1 else (-0.05 * n, n * 1.05)
        x_ticks, names = [sum(x_range) / 2], [first or last or "one check"]
    frame_series = [Series(y_label, [(x, y) for x, y in points if y is not None], "candidate", markers=True,
                           hollow=[h for (x, y), h in zip(points, list(hollow) + [False] * len(points)) if y is not None])]
    return line_chart(frame_series, ident=ident, title=title, desc=desc, x_label="checks, oldest to newest",
                      y_label=y_label, x_range=x_range, y_range=y_range, width=width, height=height,
                      x_names=names, x_ticks=x_ticks, legend=False)


def bar_chart(values: Sequence, *, ident: str, title: str, desc: str, y_label: str, first: str = "", last: str = "",
              flagged: Sequence[bool] = (), width: int = 420, height: int = 190) -> str:
    """Small bars of counts over successive checks (oldest left); flagged bars in the warning colour."""
    counts = [finite(v) or 0.0 for v in values]
    top = max(counts + [1.0])
    frame = _Frame(width, height, (0.0, float(max(len(counts), 1))), (0.0, top))
    ticks = [t for t in nice_ticks(0.0, top, 3) if t == int(t)]
    body = frame.axes([], ticks, "checks, oldest to newest", y_label)
    slot = (frame.x1 - frame.x0) / max(len(counts), 1)
    flags = list(flagged) + [False] * len(counts)
    for i, value in enumerate(counts):
        x, y = frame.x0 + slot * (i + 0.15), frame.y(value)
        body += (f"<rect x='{_f(x)}' y='{_f(y)}' width='{_f(slot * 0.7)}' height='{_f(max(frame.y0 - y, 0.0))}' "
                 f"fill='{FLAG if flags[i] else CANDIDATE}'/>")
        if not value:
            body += f"<rect x='{_f(x)}' y='{_f(frame.y0 - 1.5)}' width='{_f(slot * 0.7)}' height='1.5' fill='{MUTED}'/>"
    if len(counts) == 1 or (first and first == last):  # one check, or one day: its date once, in the middle
        body += (f"<text x='{_f((frame.x0 + frame.x1) / 2)}' y='{frame.y0 + 16}' fill='{MUTED}' font-size='11' "
                 f"text-anchor='middle'>{esc(first or last or 'one check')}</text>")
    else:
        body += (f"<text x='{frame.x0}' y='{frame.y0 + 16}' fill='{MUTED}' font-size='11'>{esc(first or 'oldest')}</text>"
                 f"<text x='{frame.x1}' y='{frame.y0 + 16}' fill='{MUTED}' font-size='11' text-anchor='end'>"
                 f"{esc(last or 'newest')}</text>")
    return _open(ident, title, desc, width, height) + body + "</svg>"


def confusion_chart(matrix: dict, *, ident: str, title: str, desc: str, role: str = "candidate") -> str:
    """The 2 × 2 confusion matrix at the operating threshold: rows actual, columns predicted, shaded by share."""
    cells = {k: int(finite((matrix or {}).get(k)) or 0) for k in ("tp", "fp", "tn", "fn")}
    total = sum(cells.values()) or 1
    colour = COLOURS.get(role, CANDIDATE)
    width, height, left, top, size = 300, 230, 92, 44, 96
    body = (f"<text x='{left + size}' y='16' text-anchor='middle' font-weight='600'>Predicted</text>"
            f"<text x='{left + size / 2}' y='34' text-anchor='middle' fill='{MUTED}'>diabetic</text>"
            f"<text x='{left + size * 1.5}' y='34' text-anchor='middle' fill='{MUTED}'>not diabetic</text>"
            f"<text x='14' y='{top + size}' text-anchor='middle' font-weight='600' "
            f"transform='rotate(-90 14 {top + size})'>Actual</text>"
            f"<text x='{left - 8}' y='{top + size / 2}' text-anchor='end' dominant-baseline='middle' fill='{MUTED}'>diabetic</text>"
            f"<text x='{left - 8}' y='{top + size * 1.5}' text-anchor='end' dominant-baseline='middle' fill='{MUTED}'>"
            "not diab.</text>")
    layout = (("tp", 0, 0, "true pos."), ("fn", 1, 0, "false neg."), ("fp", 0, 1, "false pos."), ("tn", 1, 1, "true neg."))
    for key, column, row, name in layout:
        x, y, share = left + column * size, top + row * size, cells[key] / total
        dark = share > 0.3
        body += (f"<rect x='{x}' y='{y}' width='{size}' height='{size}' fill='{colour}' fill-opacity='{0.08 + 0.8 * share:.2f}' "
                 f"stroke='#fff' stroke-width='2'/>"
                 f"<text x='{x + size / 2}' y='{y + size / 2 - 4}' text-anchor='middle' font-size='20' font-weight='600' "
                 f"fill='{'#fff' if dark else INK}'>{esc(cells[key])}</text>"
                 f"<text x='{x + size / 2}' y='{y + size / 2 + 16}' text-anchor='middle' font-size='11' "
                 f"fill='{'#fff' if dark else MUTED}'>{esc(name)} {esc(f'{share:.0%}')}</text>")
    return _open(ident, title, desc, width, height) + body + "</svg>"

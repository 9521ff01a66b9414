"""The evidence page of a candidate: a pure rendering of the evidence document (no service calls),
in the order a reviewer reads it: the verdict; candidate vs champion with intervals; ROC and
calibration; confusion matrices; subgroups; disagreement; the training set and its drift; the
smoke test; the champion's recent history; links. Every chart has its numbers in a table beside it."""
from __future__ import annotations

from blueprints.pages import svg
from blueprints.pages.evidence_parts import (
    d, data_sections, history_section, l, links_section, smoke_section, version_label,
)
from blueprints.pages.layout import facts, figure, section, table
from blueprints.pages.text import column, count, esc, interval, num, pct, signed
from shared.domain.evidence import IDENTIFIERS
from shared.domain.gate import TABLE_FIGURES

NAMES = {"auc": "AUC", "accuracy": "Accuracy", "sensitivity": "Sensitivity (recall)", "specificity": "Specificity",
         "precision": "Precision (PPV)", "f1": "F1", "brier": "Brier score ↓", "ece": "Calibration error (ECE) ↓"}
ALIASES = {"recall"}  # = sensitivity, shown once
ROC_AT = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)
SECTIONS = (("verdict", "Verdict"), ("comparison", "Candidate vs champion"), ("curves", "ROC and calibration"),
            ("confusion", "Confusion matrices"), ("subgroups", "Subgroups"), ("disagreement", "Disagreement"),
            ("training", "Training set"), ("smoke", "Smoke test"), ("history", "Champion history"), ("links", "Links"))


def title(document: dict) -> str:
    return f"{document.get('model_name') or 'model'} v{document.get('version') or '?'}: evidence for review"


def body(document: dict, decision: str = "", evidence_digest: str | None = None) -> str:
    """The page's body (HTML). `decision` is the confirmation page's form (already escaped), shown under
    the verdict; the function-key page passes none, so it carries no decision link or token."""
    names = version_label(document)
    return (header(document, decision) + comparison(document, names) + curves(document, names)
            + confusion(document, names) + subgroups(document) + disagreement(document, names)
            + data_sections(document) + smoke_section(document) + history_section(document)
            + links_section(document, evidence_digest))


def header(document: dict, decision: str = "") -> str:
    gate, champion = d(document.get("gate")), d(document.get("champion"))
    toc = "".join(f"<a href='#{ident}'>{esc(name)}</a>" for ident, name in SECTIONS[1:])
    champ = f"champion v{esc(champion.get('version'))}" if champion.get("version") else "no champion yet"
    return (f"<p class='kicker'>Model review · evidence</p>"
            f"<h1>{esc(document.get('model_name'))} v{esc(document.get('version'))} <span class='meta'>vs {champ}</span></h1>"
            "<section id='verdict' aria-label='Verdict'>" + verdict_block(document.get("verdict"), gate.get("reasons"))
            + f"<p class='meta'>Approval <code>{esc(document.get('approval_id'))}</code> · evidence built "
              f"{esc(when(document.get('built_at')))} · evaluated on {esc(gate.get('evaluated_on') or 'not recorded')}</p>"
            + decision + f"</section><nav class='toc noprint' aria-label='Sections'>{toc}</nav>")


def verdict_block(verdict, reasons=()) -> str:
    """The verdict line ({"passed", "line"}) with its badge, and the gate's reasons under it."""
    verdict = d(verdict)
    passed = verdict.get("passed") is True
    state = "pass" if passed else "fail"
    items = "".join(f"<li>{esc(reason)}</li>" for reason in l(reasons))
    return (f"<div class='verdict {state}'><p><span class='badge {state}'>{'passed' if passed else 'did not pass'}"
            f"</span> {esc(verdict.get('line'))}</p>" + (f"<ul>{items}</ul>" if items else "") + "</div>")


def comparison(document: dict, names: tuple[str, str]) -> str:
    gate = d(document.get("gate"))
    ours, theirs = d(gate.get("candidate")), d(gate.get("champion"))
    intervals = d(gate.get("intervals"))
    ci_ours, ci_theirs = d(intervals.get("candidate")), d(intervals.get("champion"))
    confidence = intervals.get("confidence") or d(gate.get("difference")).get("confidence") or 0.95
    level = pct(confidence, 0)
    metrics = [m for m in TABLE_FIGURES if m in ours] + sorted(set(ours) - set(TABLE_FIGURES) - ALIASES)
    both = bool(theirs)
    rows = []
    for metric in metrics:
        a, b = d(ci_ours.get(metric)), d(ci_theirs.get(metric))
        delta = ours[metric] - theirs[metric] if metric in theirs and _both(ours[metric], theirs[metric]) else None
        rows.append([esc(NAMES.get(metric, metric)), f"<b>{num(ours.get(metric))}</b>{_ci(a)}"]
                    + [f"{num(theirs.get(metric))}{_ci(b)}", signed(delta)] * both)
    head = ["Metric", f"{names[0]} ({level} CI)", *[f"{names[1]} ({level} CI)", "Δ candidate − champion"] * both]
    difference = d(gate.get("difference"))
    rule = f"<p class='note'>Rule: {esc(gate.get('rule'))}.</p>" if gate.get("rule") else ""
    diff = ""
    if difference:
        diff = (f"<p>Paired bootstrap of {esc(str(difference.get('metric', gate.get('metric', ''))).upper())}(candidate) − "
                f"champion: <b>{signed(difference.get('point'))}</b>, {esc(pct(difference.get('confidence'), 0))} interval "
                f"{esc(interval(difference.get('lower'), difference.get('upper')))} over {count(difference.get('resamples'))} "
                f"resamples; the lower bound must stay above {signed(-(difference.get('margin') or 0))}.</p>")
    scored = (f"Both versions scored on the same {count(gate.get('rows'))} rows" if both else
              f"Scored on {count(gate.get('rows'))} rows (no champion)")
    note = (f"<p class='note'>{scored} at threshold {num(d(gate.get('curves')).get('threshold'), 2)}; intervals: "
            f"percentile bootstrap, {count(intervals.get('resamples'))} resamples. ↓ lower is better.</p>")
    return section("comparison", "Candidate vs champion", diff + table(head, rows, cards=3 if both else 0) + note + rule)


def curves(document: dict, names: tuple[str, str]) -> str:
    gate = d(document.get("gate"))
    roc, cal = d(d(gate.get("curves")).get("roc")), d(d(gate.get("curves")).get("calibration"))
    ours, theirs = d(gate.get("candidate")), d(gate.get("champion"))
    if not l(roc.get("candidate")) and not l(cal.get("candidate")):
        return section("curves", "ROC and calibration",
                       "<p class='note'>No curves: the gate ran on point estimates only (no per-row predictions).</p>")
    desc = (f"ROC curves of the {names[0]} (AUC {num(ours.get('auc'))})"
            + (f" and the {names[1]} (AUC {num(theirs.get('auc'))})" if l(roc.get("champion")) else "")
            + " on the same rows, against the chance diagonal. The table beside it lists sensitivity at fixed false positive rates.")
    chart = svg.roc_chart(l(roc.get("candidate")), l(roc.get("champion")), ident="roc", candidate_label=names[0],
                          champion_label=names[1], desc=desc)
    both = bool(l(roc.get("champion")))
    rows = [[num(at, 2), num(_tpr_at(l(roc.get("candidate")), at), 3)]
            + ([num(_tpr_at(l(roc.get("champion")), at), 3)] if both else []) for at in ROC_AT]
    sizes = " and ".join(str(len(l(roc.get(k)))) for k in ("candidate", "champion")[:1 + both])
    roc_table = table(["False positive rate", f"Sensitivity, {names[0]}", *([f"Sensitivity, {names[1]}"] * both)],
                      rows, f"Interpolated from {sizes} curve points")
    bins_a, bins_b = l(cal.get("candidate")), l(cal.get("champion"))
    cal_desc = (f"Observed rate of diabetes against the mean predicted probability in {len(bins_a)} probability bins, "
                f"for the {names[0]}" + (f" and the {names[1]}" if bins_b else "")
                + f"; the diagonal is perfect calibration. ECE {num(ours.get('ece'))} vs {num(theirs.get('ece'))}.")
    cal_chart = svg.reliability_chart(bins_a, bins_b, ident="calibration", candidate_label=names[0],
                                      champion_label=names[1], desc=cal_desc)
    cal_rows = []
    for i in range(max(len(bins_a), len(bins_b))):
        a = d(bins_a[i]) if i < len(bins_a) else {}
        b = d(bins_b[i]) if i < len(bins_b) else {}
        bounds = a or b
        cal_rows.append([f"{num(bounds.get('lower'), 1)}–{num(bounds.get('upper'), 1)}", count(a.get("rows")),
                         num(a.get("mean_probability"), 3), num(a.get("observed_rate"), 3), count(b.get("rows")),
                         num(b.get("mean_probability"), 3), num(b.get("observed_rate"), 3)])
    short = [n.split()[-1] for n in names][:1 + bool(bins_b)]
    cal_rows = [row[:1 + 3 * len(short)] for row in cal_rows]
    cal_table = table(["Bin", *(f"{v} {h}" for v in short[:1] for h in ("n", "mean p", "observed")),
                       *(f"{v} {h}" for v in short[1:] for h in ("n", "mean p", "observed"))], cal_rows,
                      "Probability bins: " + (f"{names[0]}, then {names[1]}" if bins_b else names[0]), cards=3)
    return section("curves", "ROC and calibration",
                   "<h3>ROC</h3>" + figure(chart, roc_table) + "<h3>Calibration</h3>" + figure(cal_chart, cal_table))


def confusion(document: dict, names: tuple[str, str]) -> str:
    curves_ = d(d(document.get("gate")).get("curves"))
    matrices = d(curves_.get("confusion"))
    ours, theirs = d(matrices.get("candidate")), d(matrices.get("champion"))
    if not ours:
        return section("confusion", "Confusion matrices", "<p class='note'>Not recorded for this candidate.</p>")
    threshold = num(curves_.get("threshold"), 2)
    charts = []
    for matrix, name, role, ident in ((ours, names[0], "candidate", "confusion-candidate"),
                                      (theirs, names[1], "champion", "confusion-champion")):
        if matrix:
            desc = (f"{name} at threshold {threshold}: {count(matrix.get('tp'))} true positives, {count(matrix.get('fn'))} "
                    f"false negatives, {count(matrix.get('fp'))} false positives, {count(matrix.get('tn'))} true negatives.")
            charts.append(f"<div><h3>{esc(name)}</h3>"
                          + svg.confusion_chart(matrix, ident=ident, title=f"Confusion matrix, {name}", desc=desc, role=role)
                          + "</div>")
    rows = [[esc(label), count(ours.get(key)), count(theirs.get(key)) if theirs else "–"]
            for key, label in (("tp", "True positives"), ("fn", "False negatives (missed)"),
                               ("fp", "False positives"), ("tn", "True negatives"))]
    for label, top, other in (("Sensitivity", "tp", "fn"), ("Specificity", "tn", "fp"), ("Precision (PPV)", "tp", "fp")):
        rows.append([esc(label), num(_ratio(ours, top, other), 3), num(_ratio(theirs, top, other), 3)])
    numbers = table(["At threshold " + threshold, names[0], names[1]], rows)
    return section("confusion", "Confusion matrices", f"<div class='pair'>{''.join(charts)}</div>" + numbers)


def subgroups(document: dict) -> str:
    gate = d(document.get("gate"))
    metric = str(gate.get("metric") or "auc").upper()
    champion = bool(d(gate.get("champion")))
    rows = []
    for group in map(d, l(gate.get("subgroups"))):
        reason = str(group.get("note") or "").removesuffix(": not judged")
        status = ("<span class='bad'>regressed</span>" if group.get("regressed") else "within margin"
                  if group.get("judged") else "not judged" + (f" <span class='muted'>({esc(reason)})</span>" if reason else ""))
        rows.append([esc(group.get("name")), count(group.get("rows")), count(group.get("positives")),
                     num(group.get("candidate"))] + [num(group.get("champion")), signed(group.get("difference"))] * champion
                    + [status])
    if not rows:
        return section("subgroups", "Subgroups", "<p class='note'>No subgroup figures recorded.</p>")
    names = version_label(document)
    head = ["Subgroup", "Rows", "Diabetic", names[0].split()[-1], *[names[1].split()[-1], "Δ"] * champion, "Judgement"]
    last = len(head) - 1
    caption = f"{metric} of the {names[0]}" + (f" and the {names[1]}" if champion else "") + " on each subgroup's rows"
    return section("subgroups", "Subgroups", table(head, rows, caption, text_columns=(last,),
                                                   cards=5 if champion else 3, span_columns=(last,)))


def disagreement(document: dict, names: tuple[str, str]) -> str:
    info = d(d(document.get("gate")).get("disagreement"))
    if not info:
        return section("disagreement", "Disagreement", "<p class='note'>No champion to disagree with.</p>")
    summary = facts([("Rows answered differently", f"<b>{pct(info.get('share'), 1)}</b> ({count(info.get('differing'))} "
                                                     f"of {count(info.get('rows'))})"),
                     ("Threshold", num(info.get("threshold"), 2)), ("Rows", esc(info.get("evaluated_on")))])
    examples = [e for e in map(d, l(info.get("examples"))) if e]
    features = list(dict.fromkeys(name for e in examples for name in d(e.get("features"))
                                  if str(name).casefold() not in IDENTIFIERS))  # in documents from before
    # One column per example row: a few rows of many features are narrower that way round.
    rows = [[f"<b>p {esc(names[0])}</b>", *(f"<b>{num(e.get('candidate'), 3)}</b>" for e in examples)],
            [f"<b>p {esc(names[1])}</b>", *(f"<b>{num(e.get('champion'), 3)}</b>" for e in examples)]]
    rows += [[esc(name), *column([d(e.get("features")).get(name) for e in examples])] for name in features]
    head = ["", *(f"Row {i}" for i in range(1, len(examples) + 1))]
    caption = (f"The rows where the two probabilities are furthest apart (p ≥ {num(info.get('threshold'), 2)}: "
               "answered diabetic)")
    return section("disagreement", "Disagreement",
                   summary + (table(head, rows, caption) if rows else "<p class='note'>No example rows.</p>"))


def when(value) -> str:
    text = str(value or "")
    return text[:16].replace("T", " ") + " UTC" if len(text) >= 16 and text[10:11] == "T" else text or "not recorded"


def _ci(bounds: dict) -> str:
    text = interval(bounds.get("lower"), bounds.get("upper"))
    return f"<span class='ci'>{text}</span>" if bounds else ""


def _both(a, b) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))


def _ratio(matrix: dict, top: str, other: str):
    a, b = matrix.get(top), matrix.get(other)
    return a / (a + b) if _both(a, b) and a + b else None


def _tpr_at(points: list, fpr: float):
    """The curve's TPR at `fpr`, linearly interpolated between its neighbouring points."""
    pairs = sorted((p[0], p[1]) for p in points if isinstance(p, (list, tuple)) and len(p) == 2 and _both(p[0], p[1]))
    for (x0, y0), (x1, y1) in zip(pairs, pairs[1:]):
        if x0 <= fpr <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (fpr - x0) / (x1 - x0)
    return None

"""The evidence page's later sections: the training set and its drift, the smoke test, the
champion's recent history, the links and digests (pure rendering of the document's parts)."""
from __future__ import annotations

from blueprints.pages import svg
from blueprints.pages.layout import facts, figure, link, section, table
from blueprints.pages.text import count, esc, num, pct, words


def d(value) -> dict:
    return value if isinstance(value, dict) else {}


def l(value) -> list:
    return value if isinstance(value, list) else []


def version_label(document: dict) -> tuple[str, str]:
    """("candidate v7", "champion v6"): the two columns' names."""
    champion = d(document.get("champion")).get("version") or d(document.get("gate")).get("champion_version")
    return f"candidate v{document.get('version') or '?'}", f"champion v{champion}" if champion else "champion (none)"


def _when(value) -> str:
    text = str(value or "")
    return text[:16].replace("T", " ") if len(text) >= 16 and text[10:11] == "T" else text or "–"


def data_sections(document: dict) -> str:
    data = d(document.get("training_set"))
    candidate = d(document.get("candidate"))
    summary = facts([
        ("Training set", f"<code>{esc(data.get('id'))}</code>"), ("Training job", esc(data.get("job"))),
        ("Rows", count(data.get("rows"))),
        ("Class balance", _balance(data)),
        ("Data accepted", f"{esc(_when(data.get('first_accepted_at')))} to {esc(_when(data.get('last_accepted_at')))} UTC"),
        ("Requested by", esc(", ".join(str(x) for x in l(candidate.get("requested_by"))) or "nobody named")),
        ("Registered by", esc(candidate.get("created_by") or "not recorded")),
    ])
    files_ = list(map(d, l(data.get("files"))))
    # Per-file class counts are recorded only where a file's profile counted the label: columns for them
    # only when some file has one.
    counted = any(_numbers(f.get("positives")) for f in files_)
    rows = [[esc(f.get("name")), count(f.get("rows"))]
            + [count(f.get("positives")), pct(f.get("positives") / f.get("rows"), 1)
               if _numbers(f.get("positives"), f.get("rows")) else "–"] * counted
            + [esc(_when(f.get("accepted_at"))), _content(f)] for f in files_]
    head = ["File", "Rows", *["Diabetic", "Share"] * counted, "Accepted (UTC)", "Content (SHA-256)"]
    files = table(head, rows, f"{len(rows)} files", text_columns=(0, len(head) - 1),
                  cards=4 if counted else 2, span_columns=(len(head) - 1,))
    drift = d(document.get("training_drift"))
    features = list(map(d, l(drift.get("features"))))
    tests = {str(f.get("test") or "").upper() for f in features}
    same = len(tests) == 1 and "" not in tests  # one test for every feature: named in the header, not per row
    drift_rows = [[esc(f.get("name"))] + [esc(str(f.get("test") or "").upper() or None)] * (not same)
                  + [num(f.get("statistic")), num(f.get("critical")),
                     "<span class='bad'>drifted</span>" if f.get("drifted") else "no"] for f in features]
    drift_head = ["Feature", *["Test"] * (not same), f"{next(iter(tests))} statistic" if same else "Statistic",
                  "Critical value", "Drifted"]
    drift_html = (facts([("Against", esc(drift.get("against") or "no baseline")), ("Rows", count(drift.get("rows"))),
                         ("Verdict", f"<b>{words(drift.get('verdict') or 'not checked')}</b>")])
                  + (table(drift_head, drift_rows) if drift_rows else "")
                  + (f"<p class='note'>{esc(drift.get('note'))}</p>" if drift.get("note") else ""))
    note = f"<p class='note'>{esc(data.get('note'))}</p>" if data.get("note") else ""
    return section("training", "Training set", summary + files + note + "<h3>Drift against the champion's baseline</h3>"
                   + drift_html)


def _balance(data: dict) -> str:
    if _numbers(data.get("positives"), data.get("rows")):
        return f"{count(data.get('positives'))} of {count(data.get('rows'))} rows diabetic ({pct(data.get('positive_share'), 1)})"
    if _numbers(data.get("positive_share")):  # the training split's rate: the files' label counts are not recorded
        return f"{pct(data.get('positive_share'), 1)} diabetic (training split)"
    return "not recorded"


def _content(file: dict) -> str:
    """The file's SHA-256; without one, its blob version (ETag, quotes dropped), which names a version
    of the blob but is no content digest."""
    if file.get("digest"):
        return f"<span class='mono'>{esc(file.get('digest'))}</span>"
    etag = str(file.get("etag") or "").strip('"')
    return ("not recorded" + (f"<span class='ci'>version (ETag) <span class='mono'>{esc(etag)}</span></span>"
                              if etag else ""))


def smoke_section(document: dict) -> str:
    smoke = d(document.get("smoke"))
    if not smoke:
        return section("smoke", "Smoke test", "<p class='note'>Not recorded.</p>")
    passed = smoke.get("passed") is True
    problems = "".join(f"<li>{esc(p)}</li>" for p in l(smoke.get("problems")))
    predictions = l(smoke.get("predictions"))
    shown = ", ".join(esc(p) for p in predictions[:30]) + (" …" if len(predictions) > 30 else "")
    candidate = d(document.get("candidate"))
    return section("smoke", "Smoke test", facts([
        ("Result", f"<span class='{'good' if passed else 'bad'}'>{'passed' if passed else 'failed'}</span>"),
        ("Deployment", f"<code>{esc(candidate.get('deployment'))}</code> (staging, 0% live traffic)"),
        ("Rows sent", count(smoke.get("rows"))), ("Latency", f"{num(smoke.get('latency_ms'), 0)} ms"),
        ("Predictions", shown or "–"),
    ]) + (f"<ul class='bad'>{problems}</ul>" if problems else ""))


def history_section(document: dict) -> str:
    history = d(document.get("history"))
    checks = [c for c in map(d, l(history.get("drift"))) if c]
    perf = [p for p in map(d, l(history.get("performance"))) if p]
    parts = []
    if checks:
        flagged = [bool(l(c.get("drifted"))) for c in checks]
        drifted = sum(flagged)
        desc = (f"Features drifted in each of the champion's last {len(checks)} drift checks, from "
                f"{_when(checks[0].get('at'))} to {_when(checks[-1].get('at'))}; {drifted} of them found drift.")
        chart = svg.bar_chart([len(l(c.get("drifted"))) for c in checks], ident="drift-history",
                              title="Champion drift checks", desc=desc, y_label="drifted features",
                              first=_when(checks[0].get("at"))[:10], last=_when(checks[-1].get("at"))[:10], flagged=flagged)
        rows = [[esc(_when(c.get("at"))), esc(c.get("window")), words(c.get("verdict")),
                 esc(", ".join(str(x) for x in l(c.get("drifted"))) or "–")] for c in checks]
        parts.append("<h3>Drift</h3>" + figure(chart, table(["Checked (UTC)", "Window", "Verdict", "Drifted features"],
                                                             rows, tall=True, text_columns=(1, 3))))
    if perf:
        metric = perf[-1].get("metric")
        same = [p for p in perf if p.get("metric") == metric]
        estimated = [p.get("kind") == "estimated" for p in same]
        desc = (f"The champion's {metric} over its last {len(same)} measurements, from {_when(same[0].get('at'))} to "
                f"{_when(same[-1].get('at'))}; filled points were measured on labelled rows, open points estimated "
                f"without labels. Newest: {num(same[-1].get('value'))}.")
        chart = svg.history_chart([p.get("value") for p in same], ident="performance-history",
                                  title=f"Champion {metric} history", desc=desc, y_label=str(metric).upper(),
                                  first=_when(same[0].get("at"))[:10], last=_when(same[-1].get("at"))[:10],
                                  hollow=estimated)
        rows = [[esc(_when(p.get("at"))), esc(p.get("metric")), num(p.get("value")), esc(p.get("kind"))] for p in perf]
        key = "Filled points: measured on labelled rows; open points: estimated without labels"
        parts.append("<h3>Performance</h3>" + figure(chart, table(["Measured (UTC)", "Metric", "Value", "Kind"],
                                                                   rows, key, tall=True)))
    body = "".join(parts) or "<p class='note'>No champion history (no champion yet, or nothing measured).</p>"
    return section("history", "Champion history", body)


def links_section(document: dict, evidence_digest: str | None = None) -> str:
    links = d(document.get("links"))
    candidate = d(document.get("candidate"))
    run = candidate.get("run_id")
    mlflow = (link(links.get("mlflow_run"), f"MLflow run {run}" if run else "MLflow run") if links.get("mlflow_run")
              else f"MLflow run <code>{esc(run)}</code> (no UI address configured)" if run else link(None, "MLflow run"))
    items = [mlflow, link(links.get("drift_report"), "Drift report"), link(links.get("audit"), "Audit entries")]
    digests = [("Model artifact digest", f"<code>{esc(document.get('artifact_digest') or 'not recorded')}</code>"),
               ("MLflow run id", f"<code>{esc(candidate.get('run_id'))}</code>")]
    if evidence_digest:
        digests.append(("Evidence document digest", f"<code>{esc(evidence_digest)}</code>"))
    notes = "".join(f"<li>{esc(n)}</li>" for n in l(document.get("notes")))
    gaps = f"<h3>What this document could not include</h3><ul class='note'>{notes}</ul>" if notes else ""
    return (section("links", "Links", "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>" + facts(digests)
                    + gaps)
            + f"<footer>Evidence document schema {esc(document.get('schema'))}, built {esc(_when(document.get('built_at')))}"
              " UTC. The document is immutable once the approval is requested; the approval is bound to its digest.</footer>")


def _numbers(*values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) and bool(values[-1])

"""The dashboard page: the overview dict (shared/services/dashboard.py) as sections in the issue's
order, each table's values escaped, trends as small SVG charts with their numbers beside them."""
from __future__ import annotations

from blueprints.pages import svg
from blueprints.pages.layout import facts, figure, section, table
from blueprints.pages.text import count, esc, num, pct, stamp

REFRESH_SECONDS = 30
SECTIONS = (("files", "Recent files and verdicts"), ("jobs", "Training jobs"), ("candidates", "Candidates"),
            ("approvals", "Pending approvals"), ("production", "Production"),
            ("trends", "Drift and performance"), ("messages", "Messages given up on"))
GOOD = {"accepted", "completed", "promoted", "approved", "no_drift", "ok"}
BAD = {"rejected", "failed", "gate_failed", "smoke_failed", "promotion_failed", "drift", "data_quality", "expired"}


def title(overview: dict) -> str:
    return f"{overview['model_name']}: the loop at a glance"


def body(overview: dict) -> str:
    toc = "<nav class='toc noprint'>" + "".join(f"<a href='#{i}'>{esc(t)}</a>" for i, t in SECTIONS) + "</nav>"
    meta = (f"<p class='meta'>As of {stamp(overview['generated_at'])}; this page refreshes itself every "
            f"{REFRESH_SECONDS} s.</p>")
    parts = [_files(overview["files"]), _jobs(overview["jobs"]), _candidates(overview["candidates"]),
             _approvals(overview["approvals"]), _production(overview["production"]), _trends(overview["trends"]),
             _messages(overview["messages"])]
    # 'wide': the dashboard's tables have more columns than the evidence page's; the shell lets it use more width.
    return ("<div class='wide'>" + meta + toc
            + "".join(section(ident, heading, part) for (ident, heading), part in zip(SECTIONS, parts)) + "</div>")


def status(value) -> str:
    """A status as text with a class for its colour (the word itself carries the meaning)."""
    cls = " class='good'" if value in GOOD else " class='bad'" if value in BAD else ""
    return f"<span{cls}>{esc(value)}</span>"


def _none(what: str) -> str:
    return f"<p class='note'>No {esc(what)} yet.</p>"


def _files(files: list[dict]) -> str:
    if not files:
        return _none("data files")
    rows = [[esc(f["name"]), status(f["status"]), count(f["rows"]), count(f["problem_count"]), stamp(f["received_at"]),
             esc("withdrawn" if f["withdrawn"] else "superseded" if f["superseded"] else ""), esc(f["summary"])]
            for f in files]
    return table(["file", "verdict", "rows", "problems", "received", "since", "summary"], rows,
                 caption="Newest first", text_columns=(0, 6))


def _jobs(jobs: list[dict]) -> str:
    if not jobs:
        return _none("training jobs")
    rows = [[esc(j["name"]), status(j["status"]), esc(j["reason"]), stamp(j["submitted_at"]), stamp(j["finished_at"]),
             esc(j["model_version"] and f"v{j['model_version']}"), count(j["files"]), esc(j["error"])] for j in jobs]
    return table(["job", "status", "reason", "submitted", "finished", "version", "files", "error"], rows,
                 caption="Newest first", text_columns=(0, 2, 7))


def _candidates(candidates: list[dict]) -> str:
    if not candidates:
        return _none("candidates")
    rows = [[esc(f"v{c['version']}"), status(c["status"]),
             esc("finished" if c["step"] == "done" else c["step_label"]), stamp(c["last_change"]),
             esc(c["failed_step"]), esc(c["error"]), esc(c["approval_id"])] for c in candidates]
    return table(["version", "status", "step", "last change", "failed step", "error", "approval"], rows,
                 caption="Newest version first", text_columns=(5,))


def _approvals(approvals: list[dict]) -> str:
    if not approvals:
        return _none("pending approvals")
    rows = [[esc(a["id"]), esc(f"v{a['version']}"), status(a["status"]), stamp(a["created_at"]), stamp(a["expires_at"]),
             "<span class='bad'>expired</span>" if a["expired"] else esc(_duration(a["expires_in_seconds"])),
             esc(a["champion_version"] and f"v{a['champion_version']}"), esc(a["decided_by"])] for a in approvals]
    return table(["approval", "candidate", "status", "requested", "expires at", "expires in", "champion",
                  "decided by"], rows, caption="Oldest first")


def _duration(seconds: int) -> str:
    minutes = max(int(seconds), 0) // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _version(version, deployment) -> str:
    return f"v{esc(version)} on <code>{esc(deployment)}</code>" if version else "none"


def _production(p: dict) -> str:
    pairs = [("Champion", _version(p["champion_version"], p["champion_deployment"])),
             ("Previous champion", _version(p["previous_version"], p["previous_deployment"])
              + (f" (deployment kept until {stamp(p['previous_kept_until'])})" if p["previous_kept_until"] else "")),
             ("Staging", _version(p["staging_version"], p["staging_deployment"])),
             ("Newest candidate seen", esc(p["newest_candidate"] and f"v{p['newest_candidate']}")),
             ("Updated", stamp(p["updated_at"]))]
    rollback = p.get("rollback")
    if rollback:
        pairs.append(("Rollback", f"{'under way' if rollback['under_way'] else 'done'}: v{esc(rollback['from_version'])}"
                                  f" → v{esc(rollback['to_version'])}, by {esc(rollback['by'])} at {stamp(rollback['at'])}"))
    return facts(pairs)


def _trends(trends: dict) -> str:
    drift, performance = trends["drift"], trends["performance"]
    parts = []
    if drift:
        shares = [d["drifted_share"] for d in drift]
        chart = svg.history_chart(
            shares, ident="drift-trend", title="Share of features drifted, per drift check",
            desc=f"{len(drift)} checks from {drift[0]['at']} to {drift[-1]['at']}; newest verdict "
                 f"{drift[-1]['verdict']}, {pct(shares[-1])} of features drifted. The table beside lists each.",
            y_label="share drifted", first=str(drift[0]["at"])[:10], last=str(drift[-1]["at"])[:10],
            y_range=(0.0, 1.0))
        rows = [[stamp(d["at"]), status(d["verdict"]), esc(d["champion_version"] and f"v{d['champion_version']}"),
                 count(d["rows"]), pct(d["drifted_share"]), esc(", ".join(d["drifted_features"]))]
                for d in reversed(drift)]
        parts.append("<h3>Drift checks</h3>" + figure(chart, table(
            ["at", "verdict", "champion", "rows", "drifted", "features"], rows, caption="Newest first", tall=True,
            text_columns=(5,))))
    else:
        parts.append(_none("drift checks"))
    if performance:
        values = [p["value"] for p in performance]
        metrics = sorted({str(p["metric"]) for p in performance})
        chart = svg.history_chart(
            values, ident="performance-trend", title=f"Champion's {', '.join(metrics)} over time",
            desc=f"{len(performance)} figures from {performance[0]['at']} to {performance[-1]['at']}; newest "
                 f"{num(values[-1])}. Open markers are estimates on live traffic without labels (CBPE), "
                 "filled ones figures on labelled files. The table beside lists each.",
            y_label=", ".join(metrics), first=str(performance[0]["at"])[:10], last=str(performance[-1]["at"])[:10],
            hollow=[p["kind"] == "estimated" for p in performance])
        rows = [[stamp(p["at"]), esc(p["metric"]), num(p["value"]), esc(p["kind"]),
                 esc(p["champion_version"] and f"v{p['champion_version']}"),
                 "<span class='bad'>dropped</span>" if p["dropped"] else "", esc(p["file"])]
                for p in reversed(performance)]
        parts.append("<h3>Performance</h3>" + figure(chart, table(
            ["at", "metric", "value", "kind", "champion", "", "file"], rows, caption="Newest first", tall=True,
            text_columns=(6,))))
    else:
        parts.append(_none("performance figures"))
    return "".join(parts)


def _messages(messages: dict) -> str:
    poisoned = messages["poisoned_steps"]
    parts = ["<h3>Step messages that failed for good</h3>" + (table(
        ["at", "kind", "subject", "step", "run", "tries", "reason"],
        [[stamp(p["at"]), esc(p["kind"]), esc(p["subject"]), esc(p["step"]), count(p["attempt"]), count(p["tries"]),
          esc(p["reason"])] for p in poisoned], caption="Moved to the poison queue; newest first",
        text_columns=(6,)) if poisoned else _none("poisoned step messages"))]
    malformed = messages["malformed"]
    parts.append("<h3>Messages that could not be read</h3>" + (table(
        ["received", "what", "reason"], [[stamp(m["received_at"]), esc(m["what"]), esc(m["reason"])] for m in malformed],
        caption="Kept, acknowledged; newest first", text_columns=(2,)) if malformed else _none("malformed messages")))
    dropped = messages["malformed_dropped"]
    if dropped:
        parts.append(table(["minute", "not kept whole", "last reason"],
                           [[esc(d["minute"]), count(d["count"]), esc(d["last_reason"])] for d in dropped],
                           caption="Past the per-minute cap: counted only", text_columns=(2,)))
    rejected = messages["rejected_model_events"]
    parts.append("<h3>Model events the registry did not confirm</h3>" + (table(
        ["received", "version", "source", "reason"],
        [[stamp(r["received_at"]), esc(r["version"]), esc(r["source"]), esc(r["reason"])] for r in rejected],
        caption="Newest first", text_columns=(3,)) if rejected else _none("rejected model events")))
    return "".join(parts)

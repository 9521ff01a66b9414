"""The pages behind the signed links: a GET shows and confirms, only the button's POST decides."""
from __future__ import annotations

from html import escape

import azure.functions as func

from shared.domain.candidates import Approval

STYLE = ("body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}"
         "th:first-child,td:first-child{text-align:left}button{font-size:1.1rem;padding:.5rem 1.2rem}")


def page(title: str, body: str, status: int = 200) -> func.HttpResponse:
    html = (f"<!doctype html><html><head><meta charset='utf-8'><meta name='robots' content='noindex'>"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>")
    return func.HttpResponse(html, status_code=status, mimetype="text/html",
                             headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def summary(approval: Approval) -> str:
    gate = approval.gate
    champion = gate.get("champion") or {}
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{value:.4f}</td><td>{escape(f'{champion[name]:.4f}') if name in champion else '-'}</td></tr>"
        for name, value in sorted(gate.get("candidate", {}).items())
    )
    smoke = approval.smoke
    return (
        f"<p>Candidate <b>{escape(approval.model_name)} v{escape(approval.candidate_version)}</b> on staging deployment "
        f"<code>{escape(approval.deployment)}</code>; champion: {escape('v' + approval.champion_version) if approval.champion_version else 'none yet'}.</p>"
        f"<table><tr><th>metric</th><th>candidate</th><th>champion</th></tr>{rows}</table>"
        f"<p>Evaluated on {escape(str(gate.get('evaluated_on', '')))}. Smoke test: "
        f"{'passed' if smoke.get('passed') else 'failed'} ({escape(str(smoke.get('rows')))} rows, {escape(str(smoke.get('latency_ms')))} ms).</p>"
        f"<p>Status: <b>{escape(approval.status)}</b>. Expires {escape(approval.expires_at)}.</p>"
    )


def confirmation(approval: Approval, action: str, token: str, principal: str | None) -> func.HttpResponse:
    who = (f"<p>Signed in as <b>{escape(principal)}</b>.</p>" if principal else
           "<p><label>Your name <input name='reviewer' required maxlength='200'></label></p>")
    form = (f"<form method='post'><input type='hidden' name='token' value='{escape(token)}'>{who}"
            f"<p><label>Comment <input name='comment' maxlength='2000' size='40'></label></p>"
            f"<button type='submit'>{escape(action.capitalize())} v{escape(approval.candidate_version)}</button></form>")
    return page(f"{action.capitalize()} {approval.model_name} v{approval.candidate_version}?", summary(approval) + form)


IN_PROGRESS = {"approve": "approved: the health-checked promotion is under way",
               "reject": "rejected: the staging deployment is being removed"}


def decided(approval: Approval) -> func.HttpResponse:
    """The decision as it stands; while its steps run ('deciding'), what was decided and what follows."""
    status = IN_PROGRESS.get(approval.reason, approval.status) if approval.status == "deciding" else approval.status
    follow = ("<p>This page does not refresh itself; the approval's status shows the outcome.</p>"
              if approval.status == "deciding" else "")
    return page(f"{approval.model_name} v{approval.candidate_version}: {status}",
                summary(approval) + f"<p>Decided by {escape(approval.decided_by or '')}.</p>{follow}")


def problem(status: int, message: str) -> func.HttpResponse:
    return page("This link cannot be used", f"<p>{escape(message)}</p>", status)

"""The pages behind the signed links: a GET shows and confirms, only the button's POST decides.
All of them share the page shell of blueprints/pages/layout.py (strict CSP, phone and print)."""
from __future__ import annotations

import azure.functions as func

from blueprints.pages import decision, evidence, layout
from blueprints.pages.text import esc, num
from shared.domain.candidates import Approval


def page(title: str, body: str, status: int = 200) -> func.HttpResponse:
    return layout.response(title, body, status)


def evidence_page(document: dict, evidence_digest: str | None = None) -> func.HttpResponse:
    """The evidence document as a page: the Details link and the function-key route (no decision links)."""
    return layout.response(evidence.title(document), evidence.body(document, evidence_digest=evidence_digest),
                           heading="")


def details(approval: Approval, document: dict | None) -> func.HttpResponse:
    """The Details link: the evidence the approval was issued with, or (approvals from before evidence
    documents) the summary of the approval's own figures."""
    if document is not None:
        return evidence_page(document, getattr(approval, "evidence_digest", "") or None)
    return page(f"{approval.model_name} v{approval.candidate_version}", summary(approval))


def summary(approval: Approval) -> str:
    gate = approval.gate
    champion = gate.get("champion") or {}
    rows = "".join(
        f"<tr><td>{esc(name)}</td><td>{num(value)}</td><td>{num(champion.get(name))}</td></tr>"
        for name, value in sorted(gate.get("candidate", {}).items())
    )
    smoke = approval.smoke
    return (
        f"<p>Candidate <b>{esc(approval.model_name)} v{esc(approval.candidate_version)}</b> on staging deployment "
        f"<code>{esc(approval.deployment)}</code>; champion: {esc('v' + approval.champion_version) if approval.champion_version else 'none yet'}.</p>"
        f"<div class='scroll'><table><thead><tr><th>metric</th><th>candidate</th><th>champion</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
        f"<p>Evaluated on {esc(str(gate.get('evaluated_on', '')))}. Smoke test: "
        f"{'passed' if smoke.get('passed') else 'failed'} ({esc(str(smoke.get('rows')))} rows, {esc(str(smoke.get('latency_ms')))} ms).</p>"
        f"<p>Status: <b>{esc(approval.status)}</b>. Expires {esc(approval.expires_at)}.</p>"
    )


def confirmation(approval: Approval, action: str, token: str, principal: str | None,
                 document: dict | None = None) -> func.HttpResponse:
    """The form whose POST decides. With the evidence document, the page is the evidence with the form
    under its verdict line; the form's token is the only token on it."""
    who = (f"<p>Signed in as <b>{esc(principal)}</b>.</p>" if principal else
           "<p><label>Your name <input name='reviewer' required maxlength='200'></label></p>")
    form = (f"<form method='post'><input type='hidden' name='token' value='{esc(token)}'>{who}"
            f"<p><label>Comment <input name='comment' maxlength='2000' size='40'></label></p>"
            f"<button type='submit'>{esc(action.capitalize())} v{esc(approval.candidate_version)}</button></form>")
    title = f"{action.capitalize()} {approval.model_name} v{approval.candidate_version}?"
    if document is None:
        return page(title, summary(approval) + form)
    decision = (f"<h2>{esc(title)}</h2><p>Expires {esc(approval.expires_at)}. The evidence follows below: "
                f"<a href='#comparison'>read the details</a> before you decide.</p>{form}")
    return layout.response(title, evidence.body(document, decision=decision), heading="")


IN_PROGRESS = {"approve": "approved: the health-checked promotion is under way",
               "reject": "rejected: the staging deployment is being removed"}


# Closed without a person's decision (or the decision could not be carried out): the reason says why.
EXPLAINED = {"void": "Void: nothing was decided, and no decision can apply to this approval",
             "expired": "Expired", "superseded": "Superseded", "promotion_failed": "The promotion failed",
             "failed": "Failed"}
VOID_NEXT = ("<p>The candidate was set to failed: a redeploy re-runs the quality gate, the staging deployment "
             "and the smoke test, and asks for a new approval with fresh evidence.</p>")


def decided(approval: Approval) -> func.HttpResponse:
    """The decision as it stands; while its steps run ('deciding'), what was decided and what follows;
    for a void, expired, superseded or failed approval, why."""
    status = IN_PROGRESS.get(approval.reason, approval.status) if approval.status == "deciding" else approval.status
    follow = ("<p>This page does not refresh itself; the approval's status shows the outcome.</p>"
              if approval.status == "deciding" else "")
    why = ""  # who decided, when and how: in decision.outcome
    if approval.status in EXPLAINED:
        why += (f"<p><b>{esc(EXPLAINED[approval.status])}</b> ({esc(approval.decided_at or '')}).</p>"
                f"<p>Why: {esc(approval.reason or 'not recorded')}</p>" + (VOID_NEXT if approval.status == "void" else ""))
    return page(f"{approval.model_name} v{approval.candidate_version}: {status}",
                decision.outcome(approval, why + follow))


def problem(status: int, message: str, title: str = "This link cannot be used") -> func.HttpResponse:
    return page(title, f"<p>{esc(message)}</p>", status)

"""The decided page's body: the verdict line and the comparison table of the evidence page, then
who decided, when, through what and with which comment (an approval that is decided has no expiry)."""
from __future__ import annotations

from blueprints.pages.evidence import comparison, verdict_block
from blueprints.pages.evidence_parts import version_label
from blueprints.pages.layout import facts
from blueprints.pages.text import esc, stamp
from shared.domain.evidence import verdict

VIA = {"link": "the review link", "api": "the API", "console": "the console"}


def outcome(approval, notes: str = "") -> str:
    """HTML for an approval that is no longer pending, from its own gate and smoke figures; `notes`
    (HTML, already escaped) go under the decision's facts, before the comparison."""
    gate = approval.gate if isinstance(approval.gate, dict) else {}
    smoke = approval.smoke if isinstance(approval.smoke, dict) else {}
    document = {"version": approval.candidate_version, "gate": gate,
                "champion": {"version": approval.champion_version} if approval.champion_version else None}
    line = verdict(approval.candidate_version, gate, smoke)
    pairs = [("Status", f"<b>{esc(approval.status)}</b>")]
    person = approval.decided_by and approval.decided_by != "system"  # "system": closed without a person's decision
    if person:
        pairs.append(("Decided by", esc(approval.decided_by)))
    pairs.append(("Decided at" if person else "Closed at", stamp(approval.decided_at) if approval.decided_at else "not recorded"))
    if approval.decided_via:
        pairs.append(("Via", esc(VIA.get(approval.decided_via, approval.decided_via))))
    if approval.comment:
        pairs.append(("Comment", esc(approval.comment)))
    return verdict_block(line, gate.get("reasons")) + facts(pairs) + notes + comparison(document, version_label(document))

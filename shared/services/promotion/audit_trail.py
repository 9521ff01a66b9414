"""Whether a re-run step's audit entry is already in the log (a crash may have come before it or after it)."""
from __future__ import annotations

from shared.ports import AuditLog

AUDIT_LOOKUP_WINDOW = 500  # newest audit entries searched for a re-run step's entry


def recorded(audit: AuditLog, action: str, **match) -> bool:
    """Whether the log's recent entries hold `action` with these fields (an approval_id, a rollback's
    requested_at). The audit log has no entry ids, and a step re-runs soon after its crash: an entry
    older than the window is written again (a duplicate, never a gap)."""
    return any(e.get("action") == action and all(e.get(k) == v for k, v in match.items())
               for e in audit.read(AUDIT_LOOKUP_WINDOW) if isinstance(e, dict))

"""The dossier of one model version: everything recorded about it, as one zip archive (in memory,
bounded): `dossier.json`, the evidence page `evidence.html` and a `README.txt` saying what each is."""
from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol

from shared.domain.clock import iso
from shared.domain.errors import DomainError, NotFound, TooLarge
from shared.services.audit import AuditTrail
from shared.services.repositories import Repositories

MAX_AUDIT_ENTRIES = 500  # of one version; past it the dossier says it was cut
MAX_APPROVALS = 20
MAX_ARCHIVE_BYTES = 20 * 1024 * 1024
# Audit actions that moved traffic (or took a staging deployment down) for the version they name.
TRAFFIC_ACTIONS = ("approval_requested", "promoted", "promotion_failed", "rolled_back", "rejected", "expired",
                   "superseded", "voided")
# What an approval record keeps that is not for a page or an archive: the fingerprints of used links.
_APPROVAL_PRIVATE = ("used_links",)

README = """Dossier of {model} v{version}, built {built_at}.

dossier.json   Everything recorded about this version, as JSON:
               candidate      the candidate record (status, history, gate figures, smoke test, steps);
               evidence       the evidence document the approval was issued with (training set manifest
                              and file digests, gate figures and curves, smoke test, drift, artifact digest)
                              and its digest ("sha256:" over its canonical JSON), or null with a note;
               approvals      each approval request of this version: status, who decided, when, how, comment;
               traffic        the version's place in the production record now, and each traffic change
                              (staging with mirror, promotion, failed promotion, rollback, teardown) from the audit log;
               audit          the audit entries naming this version, oldest first, and the check of the
                              whole audit log's hash chain (ok, entries, first broken entry).
evidence.html  The evidence page a reviewer saw, rendered from the same evidence document
               (self-contained: no script, no external resources).
README.txt     This file.
"""


class EvidenceSource(Protocol):
    """The evidence documents (services.evidence)."""

    def for_candidate(self, model_name: str, version: str) -> dict:
        """The newest evidence document of that version; NotFound if none."""

    def digest(self, document: dict) -> str:
        """"sha256:" + hex over the document's canonical JSON."""


@dataclass(frozen=True)
class Archive:
    file_name: str
    content: bytes
    media_type: str = "application/zip"


class Dossier:
    """Gathers a version's records (bounded reads) and packs them; the evidence page's renderer is
    given by the caller (it lives with the pages), so this stays free of HTML."""

    def __init__(self, repos: Repositories, audit: AuditTrail, model_name: str, clock: Callable[[], datetime],
                 evidence: EvidenceSource | None = None):
        self.repos = repos
        self.audit = audit
        self.model_name = model_name
        self.clock = clock
        self.evidence = evidence

    def document(self, version: str) -> dict:
        """dossier.json of `version`: NotFound for a version without a candidate record."""
        candidate = self.repos.candidates.get(version)
        evidence, digest, note = self._evidence(version)
        entries, cut = self._audit_entries(version)
        own = [e for e in entries if str(e.get("version")) == version]
        approvals = self._approvals(version, candidate.approval_id, own)
        return {
            "schema": 1, "model_name": self.model_name, "version": version, "built_at": iso(self.clock()),
            "candidate": candidate.to_dict(),
            "evidence": {"document": evidence, "digest": digest, "note": note},
            "approvals": approvals,
            "decisions": [{"approval_id": a["id"], "status": a["status"], "decided_by": a["decided_by"],
                           "decided_at": a["decided_at"], "decided_via": a["decided_via"], "comment": a["comment"]}
                          for a in approvals if a.get("decided_by")],
            "refusals": [e for e in own if e.get("action") == "decision_refused"],
            "traffic": self._traffic(version, entries),
            "audit": {"entries": entries, "cut_at": MAX_AUDIT_ENTRIES if cut else None,
                      "chain": self.audit.verify().as_json()},
        }

    def archive(self, version: str, render_evidence: Callable[[dict | None, str], str]) -> Archive:
        """The zip of `version`'s dossier; `render_evidence(document, note)` makes the evidence page
        (document None: the note says why there is none)."""
        doc = self.document(version)
        evidence = doc["evidence"]["document"]
        page = render_evidence(evidence, doc["evidence"]["note"])
        built_at = datetime.fromisoformat(doc["built_at"])
        stamp = (max(built_at.year, 1980), built_at.month, built_at.day, built_at.hour, built_at.minute,
                 built_at.second)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in (("dossier.json", json.dumps(doc, indent=1, sort_keys=True, default=str,
                                                           ensure_ascii=False)),
                               ("evidence.html", page),
                               ("README.txt", README.format(model=self.model_name, version=version,
                                                            built_at=doc["built_at"]))):
                info = zipfile.ZipInfo(name, stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, text.encode("utf-8"))
        content = buffer.getvalue()
        if len(content) > MAX_ARCHIVE_BYTES:
            raise TooLarge(f"the dossier of v{version} is larger than {MAX_ARCHIVE_BYTES} bytes")
        return Archive(safe_file_name(self.model_name, version), content)

    # --- parts ---------------------------------------------------------------------------

    def _evidence(self, version: str) -> tuple[dict | None, str | None, str]:
        if self.evidence is None:
            return None, None, "this service keeps no evidence documents"
        try:
            document = self.evidence.for_candidate(self.model_name, version)
        except NotFound:
            return None, None, f"no evidence document was built for v{version} (it never reached an approval request)"
        return document, self.evidence.digest(document), ""

    def _audit_entries(self, version: str) -> tuple[list[dict], bool]:
        """The entries naming this version (its own, or as the version a traffic change came from), oldest first."""
        found = []
        for entry in self.audit.log.scan():
            if not isinstance(entry, dict) or entry.get("model") != self.model_name:
                continue
            named = {str(entry.get(k)) for k in ("version", "from_version", "previous_version") if entry.get(k)}
            if version in named:
                if len(found) == MAX_AUDIT_ENTRIES:
                    return found, True
                found.append(entry)
        return found, False

    def _approvals(self, version: str, current: str | None, entries: list[dict]) -> list[dict]:
        ids = list(dict.fromkeys([e["approval_id"] for e in entries if isinstance(e.get("approval_id"), str)]
                                 + ([current] if current else [])))[-MAX_APPROVALS:]
        approvals = []
        for approval_id in ids:
            try:
                approval = self.repos.approvals.find(approval_id)
            except DomainError:  # an id in the log that is not one of ours
                continue
            if approval is not None and approval.candidate_version == version:
                record = approval.to_dict()
                for private in _APPROVAL_PRIVATE:
                    record.pop(private, None)
                approvals.append(record)
        return sorted(approvals, key=lambda a: a["created_at"])

    def _traffic(self, version: str, entries: list[dict]) -> dict:
        p = self.repos.production.get()
        role = ("champion" if p.champion_version == version else "previous champion" if p.previous_version == version
                else "staging" if p.staging_version == version else "none")
        changes = [{"at": e.get("at"), "action": e.get("action"), "actor": e.get("actor"), "version": e.get("version"),
                    "from_version": e.get("from_version") or e.get("previous_version"), "reason": e.get("reason")}
                   for e in entries if e.get("action") in TRAFFIC_ACTIONS]
        return {"role_now": role, "production": {
            "champion_version": p.champion_version, "champion_deployment": p.champion_deployment,
            "previous_version": p.previous_version, "previous_deployment": p.previous_deployment,
            "staging_version": p.staging_version, "staging_deployment": p.staging_deployment,
            "updated_at": p.updated_at}, "changes": changes}


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(model_name: str, version: str) -> str:
    """`<model>-v<version>-dossier.zip` of letters, digits, '.', '_' and '-' only (a header value, never raw input)."""
    model = _UNSAFE.sub("_", model_name).strip("._-")[:60] or "model"
    number = version if version.isascii() and version.isdigit() else "0"
    return f"{model}-v{number[:9]}-dossier.zip"


"""The evidence document of an approval request: what the reviewer saw, assembled from plain inputs.

One JSON object per approval (schema 1): the verdict in one sentence, the gate and smoke test as
stored on the candidate, the training set, its drift against the champion's baseline, the
champion's recent monitoring history and links. Its digest ("sha256:" over the canonical JSON)
binds the approval to exactly this document.
"""
from __future__ import annotations

import hashlib
import json
import math

from shared.domain.contract import DIABETES_CONTRACT

SCHEMA = 1
HISTORY_LIMIT = 30  # entries of each history list (the champion's drift checks, its performance records)
_ABBREVIATIONS = {"auc": "AUC", "f1": "F1", "ece": "ECE"}
# Columns that name a person: never in a document a reviewer's page shows (gate records stored
# before the gate dropped them still carry them in the disagreement examples).
IDENTIFIERS = frozenset(name.casefold() for name in DIABETES_CONTRACT.identifiers)


def canonical(document: dict) -> str:
    """The one JSON text a document's digest is taken over (sorted keys, no spaces, UTF-8 as is)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def digest(document: dict) -> str:
    """"sha256:" + hex digest of the canonical JSON: independent of key order, equal after a storage round trip."""
    return "sha256:" + hashlib.sha256(canonical(document).encode()).hexdigest()


def verdict(version: str, gate: dict, smoke: dict) -> dict:
    """{"passed", "line"}: the gate's and the smoke test's outcome in one plain sentence."""
    passed = bool(gate.get("passed")) and bool(smoke.get("passed"))
    if gate.get("passed"):
        line = f"v{version} passes the gate: {_comparison(gate)}"
    else:
        reasons = gate.get("reasons") or ["no reason recorded"]
        line = f"v{version} fails the gate: {reasons[0]}"
    if smoke.get("passed"):
        line += f"; smoke test passed on {smoke.get('rows', 0)} rows"
    elif smoke:
        problems = smoke.get("problems") or ["no reason recorded"]
        line += f"; smoke test failed: {problems[0]}"
    else:
        line += "; no smoke test recorded"
    return {"passed": passed, "line": line}


def _comparison(gate: dict) -> str:
    metric = str(gate.get("metric") or "auc")
    name = _ABBREVIATIONS.get(metric, metric)
    ours = (gate.get("candidate") or {}).get(metric)
    text = f"{name} {_figure(ours)}"
    champion, theirs = gate.get("champion_version"), (gate.get("champion") or {}).get(metric)
    if not champion or theirs is None:
        return text + " (no champion to compare with)"
    text += f" vs champion v{champion} {_figure(theirs)}"
    difference = gate.get("difference") or {}
    if difference.get("point") is not None:
        text += f" (Δ {difference['point']:+.4f}"
        if difference.get("lower") is not None and difference.get("upper") is not None:
            text += (f", {float(difference.get('confidence', 0.95)):.0%} CI "
                     f"[{difference['lower']:+.4f}, {difference['upper']:+.4f}]")
        text += ")"
    elif isinstance(ours, (int, float)):
        text += f" (Δ {ours - theirs:+.4f})"
    return text


def _figure(value) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "n/a"


def training_set(set_id: str, job: str, files: list[dict], note: str = "",
                 positive_share: float | None = None) -> dict:
    """The training set part: its files ({name, etag, rows, positives, accepted_at, digest}) and their
    totals; rows/positives total only when every file's is known. `positive_share` is used only when the
    files' positives are not (e.g. the training split's rate)."""
    files = [{k: f.get(k) for k in ("name", "etag", "rows", "positives", "accepted_at", "digest")} for f in files]
    rows = _total(f["rows"] for f in files)
    positives = _total(f["positives"] for f in files)
    if positives is not None and rows:
        positive_share = round(positives / rows, 6)
    accepted = sorted(f["accepted_at"] for f in files if f["accepted_at"])
    return {"id": set_id or "", "job": job or "", "rows": rows, "positives": positives,
            "positive_share": positive_share, "first_accepted_at": accepted[0] if accepted else None,
            "last_accepted_at": accepted[-1] if accepted else None, "files": files, "note": note}


def _total(values) -> int | None:
    values = list(values)
    if not values or any(v is None for v in values):
        return None
    return sum(int(v) for v in values)


def no_training_drift(note: str) -> dict:
    return {"against": None, "rows": None, "verdict": None, "features": [], "note": note}


def training_drift(champion: str, result: dict, note: str = "") -> dict:
    """The training set against the champion's baseline, from a drift result (DriftResult.to_dict()):
    per feature one statistic and its critical value (KS for numeric features, PSI for categorical)."""
    features = []
    for name, stats in (result.get("features") or {}).items():
        test = "ks" if stats.get("kind") == "numeric" else "psi"
        features.append({"name": name, "test": test, "statistic": stats.get(test),
                         "critical": (stats.get("thresholds") or {}).get(test), "drifted": bool(stats.get("drifted"))})
    return {"against": f"champion v{champion} baseline", "rows": result.get("rows"), "verdict": result.get("verdict"),
            "features": features, "note": note or result.get("reason", "")}


def drift_history(checks: list[dict]) -> list[dict]:
    """Drift check records (newest first, as listed) → the newest HISTORY_LIMIT entries, newest last."""
    entries = []
    for check in checks[:HISTORY_LIMIT]:
        rows = check.get("rows")
        entries.append({"at": check.get("at"), "verdict": check.get("verdict"),
                        "window": "recent" + (f" ({rows} rows)" if rows is not None else ""),
                        "drifted": list(check.get("drifted_features") or [])})
    return entries[::-1]


def performance_history(records: list[dict]) -> list[dict]:
    """Performance records (newest first) → the newest HISTORY_LIMIT entries, newest last."""
    entries = []
    for record in records[:HISTORY_LIMIT]:
        metric = record.get("metric")
        entries.append({"at": record.get("file_decided_at") or record.get("at"), "metric": metric,
                        "value": (record.get("metrics") or {}).get(metric),
                        "kind": "estimated" if record.get("kind") == "estimated" else "labelled"})
    return entries[::-1]


def assemble(*, model_name: str, approval_id: str, built_at: str, candidate: dict, champion: dict | None,
             gate: dict, smoke: dict, training: dict, drift: dict, history: dict, links: dict,
             artifact_digest: str, notes: list[str] | None = None) -> dict:
    """The document (schema 1), as plain JSON: what is stored equals what was digested. The gate is as
    stored on the candidate, less any identifier column in its disagreement examples."""
    version = str(candidate["version"])
    document = {
        "schema": SCHEMA, "model_name": model_name, "version": version, "approval_id": approval_id,
        "built_at": built_at, "verdict": verdict(version, gate or {}, smoke or {}),
        "gate": without_identifiers(gate or {}), "smoke": smoke or {},
        "candidate": {"version": version, "run_id": candidate.get("run_id"),
                      "created_by": candidate.get("created_by") or "", "deployment": candidate.get("deployment") or "",
                      "requested_by": list(candidate.get("requested_by") or [])},
        "champion": champion,
        "training_set": training, "training_drift": drift,
        "history": {"drift": list(history.get("drift") or []), "performance": list(history.get("performance") or [])},
        "links": {k: links.get(k) for k in ("mlflow_run", "drift_report", "audit")},
        "artifact_digest": artifact_digest or "",
        "notes": list(notes or []),
    }
    return json.loads(canonical(_finite(document)))


def without_identifiers(gate: dict) -> dict:
    """`gate` with the identifier columns left out of its disagreement examples' features."""
    info = gate.get("disagreement")
    if not isinstance(info, dict) or not isinstance(info.get("examples"), list):
        return gate
    examples = [{**e, "features": {k: v for k, v in e["features"].items() if str(k).casefold() not in IDENTIFIERS}}
                if isinstance(e, dict) and isinstance(e.get("features"), dict) else e for e in info["examples"]]
    return {**gate, "disagreement": {**info, "examples": examples}}


def _finite(value):
    """NaN and infinities (not JSON) become null."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

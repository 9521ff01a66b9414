"""Signed decision links: a token that binds one approval, one action, an expiry and what was reviewed.

token = "{expires_at}.{base64url(HMAC-SHA256(secret,
         "{approval_id}|{action}|{expires_at}|{artifact_digest}|{evidence_digest}"))}" (no padding).

The token is URL-safe (digits, ".", base64url alphabet) and carries no approval id, action or
digests: the link's path names the approval and action, the approval records the digests of the
model's artifacts and of the evidence document it was issued with ("" for approvals made before
binding), and the token only proves they were signed together. Error messages
never contain the token or the secret. Single use is recorded by `token_fingerprint`, so the
token itself is never stored.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re

from shared.domain.errors import Forbidden, Unauthorized

# "view" signs the read-only Details link (shared/services/candidates.py); the action is part of
# the signed message, so a view token can never approve or reject.
ACTIONS = ("approve", "reject", "view")

# Exactly one spelling per token, so a token cannot be reshaped to dodge its single-use fingerprint:
# expires_at is 1-12 plain ASCII digits without leading zeros (no sign, spaces or "_" that int()
# would accept); the signature is 32 bytes of base64url without padding = 43 characters, compared
# as text, so the other spellings of its last character do not match either.
_TOKEN = re.compile(r"(0|[1-9][0-9]{0,11})\.([A-Za-z0-9_-]{43})")
_MAX_TOKEN_CHARS = 64
_MAX_DIGEST_CHARS = 200


def _digests_ok(*digests) -> bool:
    """Digests are "" or "sha256:<hex>": no "|", so the signed message has one reading."""
    return all(isinstance(d, str) and len(d) <= _MAX_DIGEST_CHARS and "|" not in d for d in digests)


def _signature(secret: str, approval_id: str, action: str, expires_at: int, artifact_digest: str,
               evidence_digest: str) -> str:
    message = f"{approval_id}|{action}|{expires_at}|{artifact_digest}|{evidence_digest}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_decision(secret: str, approval_id: str, action: str, expires_at: int, *, artifact_digest: str,
                  evidence_digest: str) -> str:
    """A URL-safe token for `action` on `approval_id`, valid until `expires_at` (epoch seconds), for
    the artifacts and evidence with those digests (the approval's; "" when it recorded none)."""
    if not isinstance(secret, str) or not secret:
        raise ValueError("a non-empty secret is required to sign decision links")
    if not isinstance(approval_id, str) or not approval_id:
        raise ValueError("approval_id must be a non-empty string")
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    if isinstance(expires_at, bool) or not isinstance(expires_at, int) or not 0 <= expires_at < 10**12:
        raise ValueError("expires_at must be a non-negative integer of epoch seconds")
    if not _digests_ok(artifact_digest, evidence_digest):
        raise ValueError("artifact_digest and evidence_digest must be digest strings without '|'")
    signature = _signature(secret, approval_id, action, expires_at, artifact_digest, evidence_digest)
    return f"{expires_at}.{signature}"


def verify_decision(secret: str, token: str, approval_id: str, action: str, now: float, *,
                    artifact_digest: str, evidence_digest: str) -> int:
    """Return the token's expires_at if it was signed for exactly this approval, action and digests.

    Raises Unauthorized for a malformed, tampered or foreign token (wrong approval, action or
    digests), Forbidden("link expired") for a genuine token at or after its expiry.
    """
    if not isinstance(secret, str) or not secret:
        # A misconfiguration, not the caller's fault; still never accept anything.
        raise Unauthorized("decision links cannot be verified")
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS:
        raise Unauthorized("malformed decision link")
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise Unauthorized("malformed decision link")
    if (not isinstance(approval_id, str) or not approval_id or action not in ACTIONS
            or not _digests_ok(artifact_digest, evidence_digest)):
        raise Unauthorized("decision link does not match this approval")
    expires_at = int(match.group(1))
    expected = _signature(secret, approval_id, action, expires_at, artifact_digest, evidence_digest)
    # Both sides are ASCII by construction (regex above): compare bytes in constant time.
    if not hmac.compare_digest(expected.encode("ascii"), match.group(2).encode("ascii")):
        raise Unauthorized("decision link signature does not match")
    if not now < expires_at:  # also refuses a NaN clock
        raise Forbidden("link expired")
    return expires_at


def token_fingerprint(token: str) -> str:
    """A stable, non-reversible id of a token (sha256 hex prefix) to record its single use."""
    data = token if isinstance(token, bytes) else str(token).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:32]

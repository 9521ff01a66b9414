"""Signed decision links: round trip, tampering, expiry, malformed tokens, safe messages, the digests bound."""
from __future__ import annotations

import re

import pytest

from shared.domain.errors import DomainError, Forbidden, Unauthorized
from shared.domain import links
from shared.domain.links import sign_decision, token_fingerprint

SECRET = "unit-test-link-secret-9f2c"
APPROVAL = "appr-2026-11-22-0001"
EXPIRES = 1_800_000_000
NOW = EXPIRES - 3600
ARTIFACTS = "sha256:" + "a1" * 32
EVIDENCE = "sha256:" + "e5" * 32
DIGESTS = {"artifact_digest": ARTIFACTS, "evidence_digest": EVIDENCE}


def token(action="approve", approval=APPROVAL, expires=EXPIRES, secret=SECRET, artifacts=ARTIFACTS, evidence=EVIDENCE):
    return sign_decision(secret, approval, action, expires, artifact_digest=artifacts, evidence_digest=evidence)


def verify_decision(secret, token, approval, action, now, **digests):
    return links.verify_decision(secret, token, approval, action, now, **{**DIGESTS, **digests})


def flip(text: str, index: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    replacement = alphabet[(alphabet.index(text[index]) + 1) % len(alphabet)]
    return text[:index] + replacement + text[index + 1:]


@pytest.mark.parametrize("action", ["approve", "reject", "view"])
def test_round_trip_returns_the_expiry(action):
    signed = token(action)
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", signed), "URL-safe without escaping"
    assert "=" not in signed
    assert verify_decision(SECRET, signed, APPROVAL, action, NOW) == EXPIRES


def test_token_is_deterministic_and_binds_every_part():
    assert token() == token()
    assert len({token(), token("reject"), token(approval="other"), token(expires=EXPIRES + 1),
                token(secret="other-secret"), token(artifacts=""), token(evidence=""),
                token(artifacts=EVIDENCE, evidence=ARTIFACTS)}) == 8


def test_the_token_is_bound_to_the_reviewed_artifacts_and_evidence():
    signed = token()
    other = "sha256:" + "00" * 32
    for digests in ({"artifact_digest": other}, {"evidence_digest": other}, {"artifact_digest": ""},
                    {"evidence_digest": ""}, {"artifact_digest": EVIDENCE, "evidence_digest": ARTIFACTS},
                    {"artifact_digest": ARTIFACTS + "|", "evidence_digest": EVIDENCE},
                    {"artifact_digest": None}, {"evidence_digest": 7}):
        with pytest.raises(Unauthorized):
            verify_decision(SECRET, signed, APPROVAL, "approve", NOW, **digests)
    assert verify_decision(SECRET, signed, APPROVAL, "approve", NOW) == EXPIRES


def test_the_signed_message_has_one_reading():
    """Moving a "|" between the fields cannot give another approval's or digest pair's signature."""
    import base64
    import hashlib
    import hmac

    message = f"{APPROVAL}|approve|{EXPIRES}|{ARTIFACTS}|{EVIDENCE}".encode()
    expected = base64.urlsafe_b64encode(hmac.new(SECRET.encode(), message, hashlib.sha256).digest()).rstrip(b"=")
    assert token() == f"{EXPIRES}.{expected.decode()}"
    with pytest.raises(ValueError):
        sign_decision(SECRET, APPROVAL, "approve", EXPIRES, artifact_digest="a|b", evidence_digest="")
    with pytest.raises(ValueError):
        sign_decision(SECRET, APPROVAL, "approve", EXPIRES, artifact_digest=None, evidence_digest="")


def test_an_approval_made_before_binding_signs_empty_digests():
    legacy = token(artifacts="", evidence="")
    assert verify_decision(SECRET, legacy, APPROVAL, "approve", NOW, artifact_digest="", evidence_digest="") == EXPIRES
    with pytest.raises(Unauthorized):
        verify_decision(SECRET, legacy, APPROVAL, "approve", NOW)


def test_tampered_signature_is_unauthorized():
    signed = token()
    expires, signature = signed.split(".")
    for index in (0, 21, len(signature) - 1):
        with pytest.raises(Unauthorized):
            verify_decision(SECRET, f"{expires}.{flip(signature, index)}", APPROVAL, "approve", NOW)


def test_extended_expiry_is_unauthorized():
    signature = token().split(".")[1]
    with pytest.raises(Unauthorized):
        verify_decision(SECRET, f"{EXPIRES + 86400}.{signature}", APPROVAL, "approve", NOW)


def test_only_the_canonical_spelling_verifies():
    """Another spelling of the same token would get another single-use fingerprint: refuse it."""
    import base64

    signed = token()
    expires, signature = signed.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    variant = signature[:-1] + alphabet[(last & ~3) | ((last + 1) & 3)]  # same 32 bytes when decoded
    assert base64.urlsafe_b64decode(variant + "=") == base64.urlsafe_b64decode(signature + "=")
    for spelling in (f"{expires}.{variant}", f"0{expires}.{signature}", f"00{expires}.{signature}"):
        with pytest.raises(Unauthorized):
            verify_decision(SECRET, spelling, APPROVAL, "approve", NOW)


def test_wrong_approval_action_or_secret_is_unauthorized():
    signed = token("approve")
    for approval, action, secret in [
        ("appr-2026-11-22-0002", "approve", SECRET),
        (APPROVAL + "|approve", "approve", SECRET),
        (APPROVAL, "reject", SECRET),
        (APPROVAL, "view", SECRET),
        (APPROVAL, "delete", SECRET),
        (APPROVAL, "APPROVE", SECRET),
        ("", "approve", SECRET),
        (APPROVAL, "approve", "another-secret"),
        (APPROVAL, "approve", ""),
    ]:
        with pytest.raises(Unauthorized):
            verify_decision(secret, signed, approval, action, NOW)


def test_a_view_token_cannot_decide():
    view = token("view")
    for action in ("approve", "reject"):
        with pytest.raises(Unauthorized):
            verify_decision(SECRET, view, APPROVAL, action, NOW)


def test_expired_link_is_forbidden_but_only_when_genuine():
    signed = token()
    for now in (EXPIRES, EXPIRES + 0.001, EXPIRES + 10**6, float("nan")):
        with pytest.raises(Forbidden, match="link expired"):
            verify_decision(SECRET, signed, APPROVAL, "approve", now)
    assert verify_decision(SECRET, signed, APPROVAL, "approve", EXPIRES - 0.001) == EXPIRES
    # An expired token that was also tampered with is refused as forged, not as expired.
    with pytest.raises(Unauthorized):
        verify_decision(SECRET, signed, APPROVAL, "reject", EXPIRES + 10)


def _malformed():
    good = token()
    expires, signature = good.split(".")
    return [
        "", ".", "..", " ", "\x00", "😀", "abc", expires, signature, f"{expires}.", f".{signature}",
        f"{expires}.{signature}.", f"{expires}.{signature}.x", f"{expires}..{signature}",
        f"{expires}.{signature}=", f"{expires}.{signature}==", f"{expires}.{signature[:-1]}",
        f"{expires}.{signature}A", f" {good}", f"{good} ", f"{good}\n", f"+{expires}.{signature}",
        f"-{expires}.{signature}", f"{expires[:3]}_{expires[3:]}.{signature}", f"1e9.{signature}",
        f"{'9' * 13}.{signature}", f"{'9' * 5000}.{signature}", f"{expires}.{signature[:-1]}/",
        f"{expires}.{signature[:-1]}+", f"{expires}.{signature[:-1]}é", f"{expires}.{signature[:-1]}\ud800",
        "٣٤٥." + signature,  # non-ASCII digits that int() would accept
        good.replace(".", "%2E"), good * 2, "x" * 100_000,
        None, 123, 1.5, b"bytes", good.encode(), ["list"], {"a": 1}, object(),
    ]


@pytest.mark.parametrize("bad", _malformed(), ids=lambda bad: type(bad).__name__)
def test_malformed_tokens_are_unauthorized_and_nothing_else(bad):
    with pytest.raises(Unauthorized) as caught:
        verify_decision(SECRET, bad, APPROVAL, "approve", NOW)
    assert isinstance(caught.value, DomainError)


def test_messages_never_contain_the_token_or_the_secret():
    signed = token()
    expires, signature = signed.split(".")
    cases = [
        (signed, "reject", NOW),
        (signed, "approve", EXPIRES + 1),
        (f"{expires}.{flip(signature, 5)}", "approve", NOW),
        (f"{expires}.{signature}x", "approve", NOW),
    ]
    for bad, action, now in cases:
        with pytest.raises(DomainError) as caught:
            verify_decision(SECRET, bad, APPROVAL, action, now)
        message = str(caught.value) + repr(caught.value) + caught.value.message
        for secret_part in (SECRET, signed, signature, bad, flip(signature, 5)):
            assert secret_part not in message


@pytest.mark.parametrize("args", [
    ("", APPROVAL, "approve", EXPIRES),
    (SECRET, "", "approve", EXPIRES),
    (SECRET, APPROVAL, "delete", EXPIRES),
    (SECRET, APPROVAL, "approve", -1),
    (SECRET, APPROVAL, "approve", 1.5),
    (SECRET, APPROVAL, "approve", True),
    (SECRET, APPROVAL, "approve", 10**12),
])
def test_signing_refuses_bad_arguments(args):
    with pytest.raises(ValueError) as caught:
        sign_decision(*args, **DIGESTS)
    assert SECRET not in str(caught.value)


def test_fingerprint_is_stable_short_hex_and_does_not_reveal_the_token():
    signed = token()
    fingerprint = token_fingerprint(signed)
    assert fingerprint == token_fingerprint(signed)
    assert re.fullmatch(r"[0-9a-f]{32}", fingerprint)
    assert fingerprint != token_fingerprint(token("reject"))
    assert signed.split(".")[1] not in fingerprint

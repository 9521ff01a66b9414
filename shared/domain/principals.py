"""Who is asking: the principal App Service authentication signed in, and who may decide.

App Service authentication ("Easy Auth") injects `X-MS-CLIENT-PRINCIPAL`, a Base64-encoded JSON
object {"auth_typ", "claims": [{"typ", "val"}], "name_typ", "role_typ"}, plus
`X-MS-CLIENT-PRINCIPAL-NAME`, `-ID` and `-IDP`, and does not let external requests set them
(Microsoft Learn, "Work with user identities in Azure App Service authentication",
https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities,
"Access user claims in app code" and "Decode the client principal header"). Without App
Service authentication nothing strips them, so they are believed only when the settings say the
app sits behind it (AUTH_MODE=app-service); see blueprints/requests.py.

Entra ID's object id arrives as the claim
`http://schemas.microsoft.com/identity/claims/objectidentifier` (or `oid` when claim mapping is
off), its group ids as `groups` claims.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from shared.domain.errors import Forbidden, InvalidInput

PRINCIPAL_HEADER = "X-MS-CLIENT-PRINCIPAL"
PRINCIPAL_IDP_HEADER = "X-MS-CLIENT-PRINCIPAL-IDP"
# Every header App Service authentication sets about the caller starts so (…-NAME, -ID, -IDP).
PRINCIPAL_HEADER_PREFIX = "x-ms-client-principal"
OBJECT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
GROUPS_CLAIM = "groups"
DEFAULT_NAME_CLAIM = "name"
MAX_HEADER_CHARS = 32 * 1024
MAX_CLAIMS = 500
MAX_VALUE_CHARS = 1000
NAMED = "named"  # auth_type of a reviewer who names themselves (AUTH_MODE=none): nobody signed them in


@dataclass(frozen=True)
class Principal:
    name: str
    object_id: str = ""
    identity_provider: str = ""
    groups: tuple[str, ...] = ()
    auth_type: str = NAMED

    @property
    def display(self) -> str:
        """The name recorded as the decider (the object id when the provider gave no name)."""
        return self.name or self.object_id

    @property
    def identities(self) -> tuple[str, ...]:
        """The ids that name this person (not the groups): what a requester is recorded as."""
        return tuple(dict.fromkeys(i for i in (self.name, self.object_id) if i))

    @property
    def signed_in(self) -> bool:
        return self.auth_type != NAMED

    def to_dict(self) -> dict:
        return {"name": self.name, "object_id": self.object_id, "identity_provider": self.identity_provider,
                "auth_type": self.auth_type}


def named(name: str) -> Principal:
    """A reviewer who names themselves (no App Service authentication)."""
    return Principal(name=name.strip())


def as_decider(reviewer: "str | Principal") -> Principal:
    """The principal who decides: the signed-in one as it is, a name given as a named principal;
    InvalidInput unless it has a name of 1 to 200 characters."""
    decider = reviewer if isinstance(reviewer, Principal) else named(reviewer or "")
    if not decider.display or len(decider.display) > 200:
        raise InvalidInput("reviewer is required (at most 200 characters)")
    return decider


def parse_principal(encoded: str, identity_provider: str = "") -> Principal:
    """The principal of an `X-MS-CLIENT-PRINCIPAL` header; InvalidInput naming the header when malformed."""
    if not isinstance(encoded, str) or not encoded.strip() or len(encoded) > MAX_HEADER_CHARS:
        raise _malformed("must be Base64-encoded JSON of at most 32 KiB")
    try:
        doc = json.loads(base64.b64decode(encoded.strip(), validate=True))
    except (binascii.Error, ValueError, RecursionError):
        raise _malformed("is not Base64-encoded JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list) or len(doc["claims"]) > MAX_CLAIMS:
        raise _malformed(f"must be an object with a list 'claims' (at most {MAX_CLAIMS})")
    claims = [_claim(c) for c in doc["claims"]]
    name_typ = _text(doc, "name_typ") or DEFAULT_NAME_CLAIM
    name = next((val for typ, val in claims if typ == name_typ), "")
    object_id = next((val for wanted in OBJECT_ID_CLAIMS for typ, val in claims if typ == wanted), "")
    if not (name or object_id):
        raise _malformed(f"names nobody (no {name_typ!r} or object id claim)")
    groups = tuple(dict.fromkeys(val for typ, val in claims if typ == GROUPS_CLAIM))
    return Principal(name=name, object_id=object_id, identity_provider=identity_provider.strip()[:100],
                     groups=groups, auth_type=_text(doc, "auth_typ") or "unknown")


def _claim(claim: object) -> tuple[str, str]:
    if not isinstance(claim, dict) or not all(isinstance(claim.get(k), str) for k in ("typ", "val")):
        raise _malformed("has a claim that is not {'typ': string, 'val': string}")
    return claim["typ"], claim["val"].strip()[:MAX_VALUE_CHARS]


def _text(doc: dict, key: str) -> str:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise _malformed(f"{key!r} must be a string")
    return (value or "").strip()


def _malformed(problem: str) -> InvalidInput:
    return InvalidInput(f"header {PRINCIPAL_HEADER} {problem}")


def encode_principal(name: str, object_id: str = "", groups: tuple[str, ...] = (), auth_type: str = "aad") -> str:
    """The header App Service authentication would send for this person (the local host's emulation, tests)."""
    claims = [{"typ": DEFAULT_NAME_CLAIM, "val": name}] if name else []
    if object_id:
        claims.append({"typ": OBJECT_ID_CLAIMS[0], "val": object_id})
    claims += [{"typ": GROUPS_CLAIM, "val": g} for g in groups]
    doc = {"auth_typ": auth_type, "claims": claims, "name_typ": DEFAULT_NAME_CLAIM,
           "role_typ": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}
    return base64.b64encode(json.dumps(doc).encode()).decode("ascii")


def parse_list(text: str) -> frozenset[str]:
    """A comma-separated list of names or ids, compared without case."""
    return frozenset(part.strip().casefold() for part in (text or "").split(",") if part.strip())


@dataclass(frozen=True)
class ApproverPolicy:
    """Who may decide: principal names, Entra object ids or group ids (none listed: see anyone_when_empty)."""

    approvers: frozenset[str] = field(default_factory=frozenset)
    anyone_when_empty: bool = True  # False behind App Service authentication: an empty list admits nobody

    @classmethod
    def from_text(cls, text: str, anyone_when_empty: bool = True) -> "ApproverPolicy":
        return cls(parse_list(text), anyone_when_empty)

    def allows(self, principal: Principal) -> bool:
        if not self.approvers:
            return self.anyone_when_empty
        return any(i.casefold() in self.approvers for i in (*principal.identities, *principal.groups))

    def check(self, principal: Principal) -> None:
        """Nothing when `principal` may decide; else Forbidden naming them."""
        if not self.allows(principal):
            raise Forbidden(f"not an approver: {principal.display} is not listed in APPROVERS")


def is_requester(principal: Principal, requested_by: list[str] | tuple[str, ...]) -> bool:
    """True when any of the principal's ids is one the candidate's requesters were recorded as."""
    requesters = {r.strip().casefold() for r in requested_by if r and r.strip()}
    return any(i.casefold() in requesters for i in principal.identities)

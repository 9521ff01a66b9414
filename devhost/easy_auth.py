"""App Service authentication ("Easy Auth"), emulated for tests: a configured test principal.

With ``DEVHOST_AUTH_PRINCIPAL`` set, every HTTP request reaches the functions as if App Service
authentication had signed that principal in: the ``X-MS-CLIENT-PRINCIPAL*`` headers a client
sent are dropped (App Service does not let external requests set them) and the principal's are
added: ``X-MS-CLIENT-PRINCIPAL`` (Base64 JSON ``{auth_typ, claims: [{typ, val}], name_typ,
role_typ}``), ``-NAME``, ``-ID`` and ``-IDP``, as described in Microsoft Learn, "Work with user
identities in Azure App Service authentication"
(https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities).
Unset, headers pass untouched, as on App Service without authentication (so a spoofed header
reaches the app, which must refuse it).

The value is a name (``ada@contoso.com``) or a JSON object
``{"name": ..., "object_id": ..., "groups": [...], "idp": "aad"}``.
"""
from __future__ import annotations

import base64
import json
import os
from typing import Mapping

PRINCIPAL_ENV = "DEVHOST_AUTH_PRINCIPAL"
PREFIX = "x-ms-client-principal"
OBJECT_ID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"
ROLE_CLAIM = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"


def principal_headers(value: str) -> dict[str, str]:
    """The headers App Service authentication would add for the configured principal."""
    text = value.strip()
    spec = json.loads(text) if text.startswith("{") else {"name": text}
    if not isinstance(spec, dict) or not (spec.get("name") or spec.get("object_id")):
        raise ValueError(f"{PRINCIPAL_ENV}: a name, or a JSON object with 'name' and/or 'object_id'")
    name, object_id, idp = str(spec.get("name") or ""), str(spec.get("object_id") or ""), str(spec.get("idp") or "aad")
    claims = [{"typ": "name", "val": name}] if name else []
    claims += [{"typ": OBJECT_ID_CLAIM, "val": object_id}] if object_id else []
    claims += [{"typ": "groups", "val": str(g)} for g in spec.get("groups") or []]
    encoded = base64.b64encode(json.dumps({"auth_typ": idp, "claims": claims, "name_typ": "name",
                                           "role_typ": ROLE_CLAIM}).encode()).decode("ascii")
    headers = {"X-MS-CLIENT-PRINCIPAL": encoded, "X-MS-CLIENT-PRINCIPAL-IDP": idp}
    headers.update({"X-MS-CLIENT-PRINCIPAL-NAME": name} if name else {})
    headers.update({"X-MS-CLIENT-PRINCIPAL-ID": object_id} if object_id else {})
    return headers


def apply(headers: Mapping[str, str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The request's headers as the functions see them (emulation on: client principal headers replaced)."""
    value = (os.environ if environ is None else environ).get(PRINCIPAL_ENV, "")
    if not value.strip():
        return dict(headers)
    kept = {k: v for k, v in headers.items() if not k.lower().startswith(PREFIX)}
    return {**kept, **principal_headers(value)}


def check(environ: Mapping[str, str]) -> None:
    """ValueError naming the setting when the configured principal is not one."""
    value = environ.get(PRINCIPAL_ENV, "")
    if value.strip():
        try:
            principal_headers(value)
        except json.JSONDecodeError:
            raise ValueError(f"{PRINCIPAL_ENV}: not a name or a JSON object") from None

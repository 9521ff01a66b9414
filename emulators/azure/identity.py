"""Managed identity: App Service's token endpoint, the tokens it issues, and the authentication
step in front of ARM and Azure ML's MLflow API.

Tokens are JWT-shaped (claims aud, iss, exp, nbf, iat, oid, tid, appid, sub) and signed HS256 with
a secret made at each start, so only this emulator's tokens validate and a restart voids them.
Azurite's `--oauth basic` reads the same claims without checking the signature.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from emulators.azure.http import HttpError, Request, Response, Router

API_VERSION = "2019-08-01"
APP_OBJECT_ID = "a0a0a0a0-0000-4000-8000-000000000001"  # the Function App's system-assigned identity
APP_CLIENT_ID = "c0c0c0c0-0000-4000-8000-000000000001"
JOB_APP_ID = "c0c0c0c0-0000-4000-8000-000000000002"  # Azure ML's run token (MLFLOW_TRACKING_TOKEN)
JOB_AUDIENCE = "https://ml.azure.com"
PUBLIC_ARM_AUDIENCE = "https://management.azure.com/"  # listed in the cloud metadata's authentication.audiences


@dataclass(frozen=True)
class Principal:
    """Who a validated token speaks for."""

    oid: str
    appid: str
    client: str  # "app" | "job"
    audience: str
    expires_on: int
    expired: bool = False
    subject: str = ""


class TokenIssuer:
    """Issues and validates the emulator's tokens (`context.tokens`)."""

    def __init__(self, tenant_id: str, lifetime_seconds: int = 3600, secret: bytes | None = None):
        self.tenant_id = tenant_id
        self.lifetime_seconds = lifetime_seconds
        self._secret = secret or secrets.token_bytes(32)

    @property
    def issuer(self) -> str:
        return f"https://sts.windows.net/{self.tenant_id}/"

    def issue(self, resource: str, client: str = "app", lifetime_seconds: int | None = None,
              subject: str = "") -> tuple[str, int]:
        """A token for `resource` (the audience) → (token, expires_on epoch seconds)."""
        now = int(time.time())
        expires_on = now + (self.lifetime_seconds if lifetime_seconds is None else lifetime_seconds)
        oid, appid = (APP_OBJECT_ID, APP_CLIENT_ID) if client == "app" else (_job_oid(subject), JOB_APP_ID)
        claims = {"aud": resource, "iss": self.issuer, "iat": now, "nbf": now - 300, "exp": expires_on,
                  "oid": oid, "tid": self.tenant_id, "appid": appid, "sub": subject or oid,
                  "idtyp": "app", "ver": "1.0", "xms_client": client, "uti": uuid.uuid4().hex}
        return self._sign(claims), expires_on

    def issue_job_token(self, job_name: str) -> str:
        """The token Azure ML gives a job's process as MLFLOW_TRACKING_TOKEN."""
        return self.issue(JOB_AUDIENCE, client="job", subject=job_name)[0]

    def validate(self, authorization: str) -> Principal | None:
        """The principal of an `Authorization: Bearer <token>` header (expired=True when past exp);
        None when there is no token or it is not one of ours."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        claims = self._verify(token.strip())
        if claims is None:
            return None
        expires_on = int(claims.get("exp", 0))
        return Principal(oid=claims.get("oid", ""), appid=claims.get("appid", ""),
                         client=claims.get("xms_client", "app"), audience=claims.get("aud", ""),
                         expires_on=expires_on, expired=expires_on <= time.time(), subject=claims.get("sub", ""))

    def _sign(self, claims: dict[str, Any]) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        return f"{header}.{body}.{_b64(signature)}"

    def _verify(self, token: str) -> dict[str, Any] | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        expected = hmac.new(self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(_unb64(parts[2]), expected):
                return None
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            return None
        return claims if isinstance(claims, dict) else None


def identity_router(tokens: TokenIssuer, identity_header: str) -> Router:
    """App Service's managed-identity endpoint: GET /msi/token (served on the identity port)."""
    router = Router()

    def token(request: Request) -> Response:
        if not hmac.compare_digest(request.header("x-identity-header").encode(), identity_header.encode()):
            return _msi_error(401, "The X-IDENTITY-HEADER header is missing or invalid.")
        request.client = "app"  # only the app's host has the identity header
        if request.api_version != API_VERSION:
            return _msi_error(400, f"The api-version '{request.api_version}' could not be found. "
                                   f"Supported versions: {API_VERSION}.")
        resource = request.query.get("resource", "")
        if not resource:
            return _msi_error(400, "The 'resource' query parameter is required.")
        if not _names_the_app(request.query):
            return _msi_error(400, "No managed identity found for the specified ClientId/ResourceId/PrincipalId.")
        access_token, expires_on = tokens.issue(_resource_of(resource), client="app")
        return Response(200, {"access_token": access_token, "expires_on": str(expires_on),
                              "resource": resource, "token_type": "Bearer", "client_id": APP_CLIENT_ID})

    router.route("GET", r"/msi/token/?", token)
    return router


def _names_the_app(query: dict[str, str]) -> bool:
    """Whether the user-assigned identity the request selects (MSAL sends client_id, object_id or
    mi_res_id; older clients principal_id) is the app's; no selector is the system-assigned one.
    The app has no user-assigned identity, so any mi_res_id is unknown."""
    if query.get("mi_res_id"):
        return False
    chosen = [query[name] for name in ("client_id", "object_id", "principal_id") if query.get(name)]
    return all(value.lower() in (APP_CLIENT_ID, APP_OBJECT_ID) for value in chosen)


def _msi_error(status: int, message: str) -> Response:
    return Response(status, {"statusCode": status, "message": message, "correlationId": str(uuid.uuid4())})


def _resource_of(resource: str) -> str:
    return resource[: -len("/.default")] if resource.endswith("/.default") else resource


class Audiences:
    """Which token audiences each host accepts. ARM (every host but Azure ML's): the cloud's
    resourceManager and the metadata's other audience, with or without the trailing slash. Azure
    ML's MLflow and history host (<location>.api.azureml.localhost): those too (azureml-mlflow asks
    for <resourceManager>/.default) and a job's run token (JOB_AUDIENCE)."""

    def __init__(self, resource_manager: str, location: str):
        self.arm = frozenset(_normal(a) for a in (resource_manager, PUBLIC_ARM_AUDIENCE))
        self.azureml = self.arm | {_normal(JOB_AUDIENCE)}
        self.azureml_host = f"{location}.api.azureml.localhost".lower()

    def allowed(self, host: str) -> frozenset[str]:
        return self.azureml if host.lower() == self.azureml_host else self.arm

    def accepts(self, host: str, audience: str) -> bool:
        return _normal(audience) in self.allowed(host)


def _normal(audience: str) -> str:
    return (audience or "").strip().rstrip("/").lower()


class Authenticator:
    """The before-hook that requires one of our bearer tokens on everything but the exempt hosts
    and paths (the control API, cloud metadata, scoring URIs with key auth, what parts exempt)."""

    def __init__(self, tokens: TokenIssuer, faults: Any, tenant_id: str, audiences: Audiences | None = None):
        self.tokens, self.faults, self.tenant_id, self.audiences = tokens, faults, tenant_id, audiences
        self._paths: list[str] = ["/_emulator", "/metadata"]
        self._hosts: list[re.Pattern] = [re.compile(r".*\.inference\.localhost", re.I)]

    def exempt_path(self, prefix: str) -> None:
        """Requests whose path starts with `prefix` (case-insensitive) need no token."""
        self._paths.append(prefix.lower())

    def exempt_host(self, pattern: str) -> None:
        """Requests to a host matching `pattern` (a regex, in full, without the port) need no token."""
        self._hosts.append(re.compile(pattern, re.I))

    def is_exempt(self, request: Request) -> bool:
        path = request.path.lower()
        return (any(path.startswith(p) for p in self._paths)
                or any(h.fullmatch(request.host) for h in self._hosts))

    def __call__(self, request: Request) -> Response | None:
        principal = self.tokens.validate(request.header("authorization"))
        request.principal = principal
        request.client = principal.client if principal else ("control" if request.path.startswith("/_emulator") else "anonymous")
        if self.is_exempt(request):
            return None
        if request.path.lower().startswith("/subscriptions") and self.faults.take("token_expired",
                                                                                     method=request.method,
                                                                                     path=request.path) is not None:
            return self._expired(int(time.time()) - 60).response()
        if principal is None:
            missing = not request.header("authorization")
            return self._failed("Authentication failed. The 'Authorization' header is missing." if missing
                                else "Authentication failed. The access token is invalid.").response()
        if principal.expired:
            return self._expired(principal.expires_on).response()
        if self.audiences is not None and not self.audiences.accepts(request.host, principal.audience):
            return self._wrong_audience(principal.audience, request.host).response()
        return None

    def _challenge(self, description: str) -> dict[str, str]:
        return {"WWW-Authenticate": f'Bearer authorization_uri="https://login.localhost/{self.tenant_id}", '
                                    f'error="invalid_token", error_description="{description}"'}

    def _failed(self, message: str) -> HttpError:
        return HttpError(401, "AuthenticationFailed", message, headers=self._challenge(message))

    def _wrong_audience(self, audience: str, host: str) -> HttpError:
        allowed = ", ".join(sorted(self.audiences.allowed(host)))
        message = (f"The access token has been obtained for wrong audience or resource '{audience}'. It should "
                   f"exactly match with one of the allowed audiences '{allowed}'.")
        return HttpError(401, "InvalidAuthenticationTokenAudience", message,
                         headers=self._challenge("The access token has an audience this service does not accept."))

    def _expired(self, expires_on: int) -> HttpError:
        message = (f"The access token expiry UTC time '{_utc(expires_on)}' is earlier than current UTC time "
                   f"'{_utc(int(time.time()))}'.")
        return HttpError(401, "ExpiredAuthenticationToken", message, headers=self._challenge("The access token has expired."))


def _utc(epoch: int) -> str:
    return time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(epoch))


def _job_oid(job_name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"azureml-job:{job_name}"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

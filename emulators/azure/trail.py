"""The request trail: one JSON line per request received, in <root>/requests.jsonl.

Only what identifies a call: time, client, method, URL, host, path, api-version, status and the
caller's User-Agent (which SDK sent it). Never
headers or bodies; secret-bearing query values (SAS signatures, keys, codes, tokens) are redacted.
The control API (/_emulator/...) is not recorded.
"""
from __future__ import annotations

import datetime
import json
import re
import threading
from pathlib import Path

from emulators.azure.http import Request, Response

SECRET_PARAMS = ("sig", "code", "key", "token", "access_token", "client_secret", "password", "secret")
_WRITE = threading.Lock()  # one lock for every Trail: the HTTPS and identity servers share the file
_SECRET = re.compile(r"(?i)(?<=[?&])(" + "|".join(SECRET_PARAMS) + r")=[^&#]*")


def redact(raw_path: str) -> str:
    """`raw_path` with the values of secret-bearing query parameters replaced by REDACTED."""
    return _SECRET.sub(lambda m: f"{m.group(1)}=REDACTED", raw_path)


class Trail:
    """The after-hook appending each request's line (thread-safe)."""

    def __init__(self, path: Path, port: int, scheme: str = "https"):
        self.path, self.port, self.scheme = Path(path), port, scheme
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, request: Request, response: Response) -> None:
        if request.path.startswith("/_emulator"):
            return
        url = redact(request.raw_path)
        line = {
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
            "client": request.client or "anonymous",
            "method": request.method,
            "url": f"{self.scheme}://{request.host}:{self.port}{url}",
            "host": request.host,
            "path": url.split("?", 1)[0],
            "api_version": request.api_version,
            "status": response.status,
            "user_agent": request.header("user-agent")[:200],
        }
        with _WRITE, self.path.open("a", encoding="utf-8") as trail:
            trail.write(json.dumps(line) + "\n")

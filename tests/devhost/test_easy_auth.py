"""App Service authentication emulated by the local host: a configured test principal replaces
whatever principal headers a client sends; unset, headers pass as on App Service without it."""
from __future__ import annotations

import base64
import json

import pytest
import requests

from devhost import easy_auth
from devhost.host import FunctionsHost

from .conftest import SAMPLE_APP, sample_env, unique_container

SPOOF = {"X-MS-CLIENT-PRINCIPAL-NAME": "mallory", "x-ms-client-principal": "e30=", "X-Other": "kept"}


def test_a_configured_name_replaces_the_client_sent_principal_headers():
    headers = easy_auth.apply(SPOOF, {easy_auth.PRINCIPAL_ENV: "ada@contoso.com"})
    assert headers["X-Other"] == "kept" and headers["X-MS-CLIENT-PRINCIPAL-NAME"] == "ada@contoso.com"
    assert "x-ms-client-principal" not in headers
    doc = json.loads(base64.b64decode(headers["X-MS-CLIENT-PRINCIPAL"]))
    assert doc["name_typ"] == "name" and {"typ": "name", "val": "ada@contoso.com"} in doc["claims"]


def test_a_json_principal_carries_object_id_groups_and_provider():
    value = json.dumps({"name": "dan", "object_id": "oid-d", "groups": ["g1"], "idp": "aad"})
    headers = easy_auth.apply({}, {easy_auth.PRINCIPAL_ENV: value})
    assert headers["X-MS-CLIENT-PRINCIPAL-ID"] == "oid-d" and headers["X-MS-CLIENT-PRINCIPAL-IDP"] == "aad"
    claims = json.loads(base64.b64decode(headers["X-MS-CLIENT-PRINCIPAL"]))["claims"]
    assert {"typ": easy_auth.OBJECT_ID_CLAIM, "val": "oid-d"} in claims and {"typ": "groups", "val": "g1"} in claims


def test_without_the_setting_headers_pass_untouched_and_a_bad_value_is_named():
    assert easy_auth.apply(SPOOF, {}) == SPOOF
    with pytest.raises(ValueError, match=easy_auth.PRINCIPAL_ENV):
        easy_auth.apply({}, {easy_auth.PRINCIPAL_ENV: '{"groups": []}'})


def test_a_host_with_a_bad_principal_does_not_start():
    for bad in ('{"name": ', '{"groups": ["g"]}'):
        with pytest.raises(ValueError, match=easy_auth.PRINCIPAL_ENV):
            easy_auth.check({easy_auth.PRINCIPAL_ENV: bad})
    easy_auth.check({})


@pytest.mark.integration
def test_the_host_injects_the_configured_principal_over_real_http(azurite, tmp_path):
    env = {**sample_env(tmp_path / "records.jsonl", azurite, unique_container()),
           easy_auth.PRINCIPAL_ENV: '{"name": "ada@contoso.com", "object_id": "oid-a"}'}
    host = FunctionsHost(SAMPLE_APP, 0, env).start()
    try:
        seen = requests.get(f"{host.url}/api/whoami", headers=SPOOF, timeout=5).json()
    finally:
        host.stop()
    assert seen["x-ms-client-principal-name"] == "ada@contoso.com" and seen["x-ms-client-principal-id"] == "oid-a"
    assert json.loads(base64.b64decode(seen["x-ms-client-principal"]))["auth_typ"] == "aad"

"""The backbone's pieces in process: tokens, the fault registry, the trail's redaction, config files."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from emulators.azure import config as config_file
from emulators.azure.context import EmulatorConfig
from emulators.azure.faults import Faults
from emulators.azure.http import HttpError, parse_request
from emulators.azure.identity import Authenticator, TokenIssuer
from emulators.azure.trail import redact


def test_an_expired_token_validates_as_expired_and_is_answered_expired():
    tokens = TokenIssuer("tenant")
    expired, _ = tokens.issue("https://management.azure.com", lifetime_seconds=-10)
    request = parse_request("GET", "/subscriptions/s?api-version=1",
                            {"host": "127.0.0.1:1", "authorization": f"Bearer {expired}"}, b"")

    assert tokens.validate(f"Bearer {expired}").expired
    answer = Authenticator(tokens, Faults(), "tenant")(request)
    assert answer.status == 401 and answer.body["error"]["code"] == "ExpiredAuthenticationToken"


def test_another_emulators_token_does_not_validate():
    token, _ = TokenIssuer("tenant").issue("aud")

    assert TokenIssuer("tenant").validate(f"Bearer {token}") is None
    assert TokenIssuer("tenant").validate("Basic abc") is None


def test_a_job_token_names_its_job():
    tokens = TokenIssuer("tenant")

    principal = tokens.validate(f"Bearer {tokens.issue_job_token('job-1')}")

    assert (principal.client, principal.subject, principal.expired) == ("job", "job-1", False)


def test_parts_can_exempt_paths_and_hosts():
    tokens = TokenIssuer("tenant")
    auth = Authenticator(tokens, Faults(), "tenant")
    auth.exempt_path("/open")
    auth.exempt_host(r"public\.localhost")

    def answer(path, host):
        return auth(parse_request("GET", path, {"host": f"{host}:1"}, b""))

    assert answer("/open/x", "127.0.0.1") is None
    assert answer("/x", "public.localhost") is None
    assert answer("/score", "ep.eastus.inference.localhost") is None
    assert answer("/x", "127.0.0.1").status == 401


def test_take_consumes_matching_faults_only():
    faults = Faults()
    faults.add({"kind": "deployment_failed", "match": {"deployment": "Blue"}, "times": 1, "message": "boom"})
    faults.add({"kind": "eventgrid_unreachable", "match": {"subscription": "s"}})

    assert faults.take("deployment_failed", deployment="green") is None
    assert faults.take("deployment_failed", deployment="blue")["message"] == "boom"
    assert faults.take("deployment_failed", deployment="blue") is None
    assert all(faults.take("eventgrid_unreachable", subscription="s") for _ in range(5))  # until cleared
    assert faults.clear() == 1 and faults.take("eventgrid_unreachable", subscription="s") is None


def test_invalid_faults_raise_arm_errors():
    with pytest.raises(HttpError) as error:
        Faults().add({"kind": "http"})
    assert error.value.status == 400


def test_redaction_keeps_other_parameters():
    assert redact("/c/b?sv=2024&sig=abc%2Fd&se=1&code=k") == "/c/b?sv=2024&sig=REDACTED&se=1&code=REDACTED"
    assert redact("/x?signature=ok") == "/x?signature=ok"


def test_config_round_trips_through_its_file(tmp_path):
    config = EmulatorConfig(root=tmp_path, repo_root=Path("/repo"), https_port=1, identity_port=2, identity_header="h",
                            storage_connection="c", storage_account="a", blob_suffix="localhost:3",
                            mlflow_backing_url="http://m", training_python=Path("/py"), host_url="http://h",
                            blobs_extension_key="b", eventgrid_extension_key="e")

    loaded = config_file.load(config_file.save(config, tmp_path / "c.json"), config_file.parse_overrides(["https_port=9"]))

    assert loaded == dataclasses.replace(config, https_port=9)
    with pytest.raises(ValueError):
        config_file.from_dict({**config_file.to_dict(config), "nonsense": 1})


def test_the_config_file_is_readable_by_its_owner_only(tmp_path):
    config = EmulatorConfig(root=tmp_path, repo_root=Path("/repo"), https_port=1, identity_port=2, identity_header="h",
                            storage_connection="c", storage_account="a", blob_suffix="localhost:3",
                            mlflow_backing_url="http://m", training_python=Path("/py"), host_url="http://h",
                            blobs_extension_key="b", eventgrid_extension_key="e")
    existing = tmp_path / "c.json"
    existing.write_text("{}")
    existing.chmod(0o644)

    saved = config_file.save(config, existing)

    assert saved.stat().st_mode & 0o777 == 0o600


def test_each_host_accepts_its_audiences_only():
    from emulators.azure.identity import Audiences

    tokens = TokenIssuer("tenant")
    auth = Authenticator(tokens, Faults(), "tenant", Audiences("https://127.0.0.1:8443/", "eastus"))

    def answer(host, audience=None, job=False):
        token = tokens.issue_job_token("job-1") if job else tokens.issue(audience)[0]
        return auth(parse_request("GET", "/subscriptions/s?api-version=1",
                                  {"host": f"{host}:8443", "authorization": f"Bearer {token}"}, b""))

    for audience in ("https://127.0.0.1:8443", "https://127.0.0.1:8443/", "https://management.azure.com/"):
        assert answer("127.0.0.1", audience) is None
        assert answer("eastus.api.azureml.localhost", audience) is None
    assert answer("eastus.api.azureml.localhost", job=True) is None
    for refused in (answer("127.0.0.1", job=True), answer("127.0.0.1", "https://storage.azure.com/"),
                    answer("eastus.api.azureml.localhost", "https://storage.azure.com"),
                    answer("127.0.0.1", "https://127.0.0.1:9999/")):
        assert refused.status == 401 and refused.body["error"]["code"] == "InvalidAuthenticationTokenAudience"
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]

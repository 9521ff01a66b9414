"""The managed-identity endpoint and the authentication step, through the real azure-identity
credential and real HTTPS to the emulator process."""
from __future__ import annotations

import base64
import json

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential
from azure.storage.blob import BlobServiceClient

pytestmark = pytest.mark.integration


def claims(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_default_azure_credential_gets_a_token_the_emulator_accepts(managed_identity, emulator_client):
    token = DefaultAzureCredential().get_token("https://management.azure.com/.default")

    config = managed_identity.config
    assert claims(token.token)["aud"] == "https://management.azure.com"
    assert claims(token.token)["iss"] == f"https://sts.windows.net/{config.tenant_id}/"
    assert claims(token.token)["tid"] == config.tenant_id
    assert token.expires_on > claims(token.token)["iat"]
    answer = emulator_client.arm("GET", "", token=token.token)
    assert answer.status_code != 401, answer.text


def test_azurite_accepts_the_managed_identity_token_on_the_production_style_host(managed_identity):
    credential = DefaultAzureCredential()
    service = BlobServiceClient(managed_identity.blob_account_url, credential=credential,
                                connection_verify=str(managed_identity.ca_file))
    container = service.get_container_client(managed_identity.config.workspace_container)

    container.upload_blob("backbone/identity.txt", b"written with the app's identity", overwrite=True)

    assert container.download_blob("backbone/identity.txt").readall() == b"written with the app's identity"


def test_a_wrong_identity_header_is_refused_as_app_service_refuses_it(managed_identity, monkeypatch):
    answer = requests.get(managed_identity.identity_endpoint, timeout=10,
                          params={"api-version": "2019-08-01", "resource": "https://management.azure.com"},
                          headers={"X-IDENTITY-HEADER": "not-the-secret"})
    assert answer.status_code == 401
    assert answer.json()["statusCode"] == 401

    monkeypatch.setenv("IDENTITY_HEADER", "not-the-secret")
    with pytest.raises(ClientAuthenticationError):
        ManagedIdentityCredential().get_token("https://management.azure.com/.default")


@pytest.mark.parametrize("params", [{"resource": "https://management.azure.com"},
                                    {"api-version": "2019-08-01"},
                                    {"api-version": "2019-08-01", "resource": "x", "client_id": "someone-else"},
                                    {"api-version": "2019-08-01", "resource": "x", "object_id": "someone-else"},
                                    {"api-version": "2019-08-01", "resource": "x", "mi_res_id":
                                     "/subscriptions/s/resourcegroups/r/providers/Microsoft.ManagedIdentity/"
                                     "userAssignedIdentities/other"}])
def test_bad_token_requests_get_app_services_400(managed_identity, params):
    answer = requests.get(managed_identity.identity_endpoint, params=params, timeout=10,
                          headers={"X-IDENTITY-HEADER": managed_identity.identity_header})
    assert answer.status_code == 400
    assert answer.json()["statusCode"] == 400 and answer.json()["message"]


def test_arm_without_a_token_gets_arms_401_and_challenge(emulator_client):
    answer = emulator_client.arm("GET", "")

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "AuthenticationFailed"
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer authorization_uri="https://login.localhost/{emulator_client.config.tenant_id}"')
    assert 'error="invalid_token"' in challenge


def test_a_token_not_issued_by_this_emulator_is_refused(emulator_client):
    token = emulator_client.token()
    header, body, signature = token.split(".")
    forged = ".".join([header, body, signature[::-1]])

    answer = emulator_client.arm("GET", "", token=forged)

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "AuthenticationFailed"


def test_the_mlflow_host_requires_a_token(emulator_client):
    host = f"{emulator_client.config.location}.api.azureml.localhost"
    path = f"/mlflow/v2.0{emulator_client.config.workspace_id}/api/2.0/mlflow/experiments/search"

    assert emulator_client.request("POST", path, host=host, json={}).status_code == 401
    assert emulator_client.request("POST", path, host=host, json={}, token=emulator_client.token()).status_code != 401


def test_cloud_metadata_and_control_api_need_no_token(emulator_client):
    assert emulator_client.request("GET", "/_emulator/health").status_code == 200
    metadata = emulator_client.request("GET", "/metadata/endpoints", params={"api-version": "2019-05-01"})
    assert metadata.status_code != 401


def test_token_expired_fault_answers_the_next_arm_requests_401_expired(emulator_client):
    token = emulator_client.token()
    emulator_client.add_fault({"kind": "token_expired", "times": 2})

    answers = [emulator_client.arm("GET", "", token=token) for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [401, 401]
    assert {a.json()["error"]["code"] for a in answers[:2]} == {"ExpiredAuthenticationToken"}
    assert "invalid_token" in answers[0].headers["WWW-Authenticate"]
    assert answers[2].status_code != 401
    assert emulator_client.faults() == []


def test_a_user_assigned_identity_is_chosen_by_object_id_only_when_it_is_the_apps(managed_identity):
    from emulators.azure.identity import APP_OBJECT_ID

    token = ManagedIdentityCredential(identity_config={"object_id": APP_OBJECT_ID}).get_token(
        "https://management.azure.com/.default")
    assert claims(token.token)["oid"] == APP_OBJECT_ID
    with pytest.raises(ClientAuthenticationError):
        ManagedIdentityCredential(identity_config={"object_id": "0bad0bad-0000-4000-8000-000000000000"}).get_token(
            "https://management.azure.com/.default")


def test_arm_refuses_a_token_for_another_audience_and_takes_the_clouds(emulator_client):
    storage = emulator_client.arm("GET", "", token=emulator_client.token("https://storage.azure.com/"))
    assert storage.status_code == 401
    assert storage.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
    assert "invalid_token" in storage.headers["WWW-Authenticate"]

    cloud = emulator_client.token(f"{emulator_client.config.base_url}/.default")  # what azure-ai-ml asks for
    assert emulator_client.arm("GET", "", token=cloud).status_code == 200

"""Static checks of infra/ (no Bicep compiler runs here): the resources, role GUIDs,
Flex Consumption + Python 3.11, the system-assigned identity, no secret in plain text, and
that every parameter is documented."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = (INFRA / "main.bicep").read_text()
MODULES = {p.name: p.read_text() for p in (INFRA / "modules").glob("*.bicep")}
ALL = "\n".join([MAIN, *MODULES.values()])
README = (INFRA / "README.md").read_text()
PARAMS = (INFRA / "main.bicepparam").read_text()

ROLE_GUIDS = {
    "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}


def resource_block(text: str, type_prefix: str) -> str:
    """The body of the first `resource x '<type>@...'` whose type starts with type_prefix."""
    match = re.search(rf"^resource \w+ '{re.escape(type_prefix)}@[\d-]+(?:-preview)?'[^{{]*\{{\n(.*?)^\}}", text, re.S | re.M)
    assert match, f"no resource of type {type_prefix}"
    return match.group(1)


@pytest.mark.parametrize("resource_type", [
    "Microsoft.Storage/storageAccounts",
    "Microsoft.Storage/storageAccounts/blobServices",
    "Microsoft.Storage/storageAccounts/blobServices/containers",
    "Microsoft.OperationalInsights/workspaces",
    "Microsoft.Insights/components",
    "Microsoft.Web/serverfarms",
    "Microsoft.Web/sites",
    "Microsoft.Web/sites/config",
    "Microsoft.KeyVault/vaults",
    "Microsoft.KeyVault/vaults/secrets",
    "Microsoft.EventGrid/systemTopics",
    "Microsoft.EventGrid/systemTopics/eventSubscriptions",
    "Microsoft.Authorization/roleAssignments",
    "Microsoft.MachineLearningServices/workspaces",
])
def test_resource_present_with_an_api_version(resource_type):
    assert re.search(rf"'{re.escape(resource_type)}@\d{{4}}-\d{{2}}-\d{{2}}(-preview)?'", ALL), resource_type


@pytest.mark.parametrize("role,guid", ROLE_GUIDS.items())
def test_role_guids(role, guid):
    assert guid in ALL, role


def test_role_assignments_use_built_in_definitions_and_deterministic_names():
    assignments = re.findall(r"'Microsoft\.Authorization/roleAssignments@[\d-]+'", ALL)
    assert len(assignments) >= 7
    assert ALL.count("subscriptionResourceId('Microsoft.Authorization/roleDefinitions'") == len(assignments)
    for block in re.findall(r"roleAssignments@[\d-]+' = [^{]*\{\n(.*?)\n\}", ALL, re.S):
        assert re.search(r"name: guid\(", block)


def test_flex_consumption_plan_fc1():
    plan = resource_block(MAIN, "Microsoft.Web/serverfarms")
    assert re.search(r"name: 'FC1'", plan) and re.search(r"tier: 'FlexConsumption'", plan)
    assert "reserved: true" in plan


def test_function_app_python_311_system_assigned_identity():
    site = resource_block(MAIN, "Microsoft.Web/sites")
    assert "kind: 'functionapp,linux'" in site
    assert re.search(r"identity: \{\s*type: 'SystemAssigned'\s*\}", site)
    assert "functionAppConfig:" in site
    assert re.search(r"runtime: \{\s*name: 'python'\s*version: '3.11'\s*\}", site)
    assert re.search(r"authentication: \{\s*type: 'SystemAssignedIdentity'", site)
    assert "httpsOnly: true" in site


def test_storage_identity_only():
    storage = resource_block(MAIN, "Microsoft.Storage/storageAccounts")
    assert "allowSharedKeyAccess: false" in storage and "allowBlobPublicAccess: false" in storage
    assert "listKeys(storage" not in ALL and "AccountKey=" not in ALL


def test_no_secret_in_plain_text():
    # no connection strings with keys, SAS signatures, passwords or literal keys
    for pattern in [r"AccountKey=", r"SharedAccessSignature", r"[?&]sig=", r"password\s*[:=]\s*'",
                    r"code=[A-Za-z0-9_\-]{20,}", r"'[A-Za-z0-9+/]{40,}={0,2}'"]:
        assert not re.search(pattern, ALL + PARAMS, re.I), pattern
    # secret parameters are @secure() and have no literal default
    for name in ["approvalSigningKey", "teamsWebhookUrl", "notifyWebhookUrl"]:
        assert re.search(rf"@secure\(\)\nparam {name} string = ''", MAIN), name
        assert re.search(rf"param {name} = readEnvironmentVariable\(", PARAMS), name
    # no output carries a secret
    for line in re.findall(r"^output .*$", ALL, re.M):
        value = line.split("=", 1)[1]
        assert not re.search(r"list\w*\(|approvalSigningKey|teamsWebhookUrl|notifyWebhookUrl|ConnectionString", value), line


def test_signing_key_is_a_key_vault_reference():
    assert "enableRbacAuthorization: true" in resource_block(MAIN, "Microsoft.KeyVault/vaults")
    assert "APPROVAL_SIGNING_KEY: kvRef.signingKey" in MAIN
    assert re.search(r"signingKey: '@Microsoft\.KeyVault\(SecretUri=\$\{vault\.properties\.vaultUri\}secrets/", MAIN)


def test_event_grid_wiring():
    blob = MODULES["blob-events.bicep"]
    assert "'Microsoft.Storage.BlobCreated'" in blob
    assert "subjectBeginsWith: '/blobServices/default/containers/${dataContainer}/blobs/'" in blob
    assert "/runtime/webhooks/blobs?functionName=Host.Functions.on_data_blob&code=" in blob
    assert "systemKeys.blobs_extension" in blob
    assert "topicType: 'Microsoft.Storage.StorageAccounts'" in MAIN
    ml = MODULES["ml-workspace.bicep"]
    assert "topicType: 'Microsoft.MachineLearningServices.Workspaces'" in ml
    assert ml.count("endpointType: 'AzureFunction'") == 2
    assert "/functions/on_model_registered'" in ml and "/functions/on_job_status_changed'" in ml
    for event in ["ModelRegistered", "RunCompleted", "RunStatusChanged"]:
        assert f"'Microsoft.MachineLearningServices.{event}'" in ml
    # the subscriptions come in the second pass, once the functions exist
    assert "module dataBlobCreated 'modules/blob-events.bicep' = if (deployEventSubscriptions)" in MAIN
    assert len(re.findall(r"eventSubscriptions@[\d-]+' = if \(deployEventSubscriptions\)", ml)) == 2


def test_function_names_exist_in_the_app():
    source = "\n".join(p.read_text() for p in (ROOT / "blueprints").glob("*.py"))
    for name in ["on_data_blob", "on_model_registered", "on_job_status_changed"]:
        assert re.search(rf"def {name}\(", source), name
    assert "source=func.BlobSource.EVENT_GRID" in source


def parameters(text: str) -> list[str]:
    return re.findall(r"^param (\w+) ", text, re.M)


def test_every_parameter_and_output_documented():
    for name in parameters(MAIN):
        assert f"`{name}`" in README, f"parameter {name} not documented in infra/README.md"
    for name in re.findall(r"^output (\w+) ", MAIN, re.M):
        assert f"`{name}`" in README, f"output {name} not documented in infra/README.md"


def test_bicepparam_names_only_known_parameters_and_all_required_ones():
    known = set(parameters(MAIN))
    given = set(re.findall(r"^param (\w+) =", PARAMS, re.M))
    assert given <= known, given - known
    required = set(re.findall(r"^param (\w+) \w+\n", MAIN, re.M))  # no default value
    assert required <= given, required - given
    assert "using './main.bicep'" in PARAMS


def test_module_parameters_match_module_declarations():
    for match in re.finditer(r"^module \w+ '(modules/[\w-]+\.bicep)'.*?params: \{\n(.*?)\n  \}", MAIN, re.S | re.M):
        declared = set(parameters((INFRA / match.group(1)).read_text()))
        passed = set(re.findall(r"^\s+(\w+):", match.group(2), re.M))
        assert passed <= declared, (match.group(1), passed - declared)

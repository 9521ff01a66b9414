"""Static checks of infra/ (no Bicep compiler runs here): the resources, role GUIDs, Flex
Consumption + Python 3.11, the identities, no secret in plain text, the two deployments (the
Event Grid subscriptions only after the host made its key), dead letters and retry policies,
filters, the step queue, the deploy identity's constrained roles, and documented parameters."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = (INFRA / "main.bicep").read_text()
EVENTS = (INFRA / "events.bicep").read_text()
MODULES = {p.name: p.read_text() for p in (INFRA / "modules").glob("*.bicep")}
ALL = "\n".join([MAIN, EVENTS, *MODULES.values()])
README = (INFRA / "README.md").read_text()
PARAMS = (INFRA / "main.bicepparam").read_text()
EVENTS_PARAMS = (INFRA / "events.bicepparam").read_text()
GRANT = (INFRA / "scripts" / "grant-deploy-identity.sh").read_text()

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
GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def resource_block(text: str, type_prefix: str) -> str:
    """The body of the first `resource x '<type>@...'` whose type starts with type_prefix."""
    match = re.search(rf"^resource \w+ '{re.escape(type_prefix)}@[\d-]+(?:-preview)?'[^{{]*\{{\n(.*?)^\}}", text, re.S | re.M)
    assert match, f"no resource of type {type_prefix}"
    return match.group(1)


def resource_blocks(text: str, resource_type: str) -> dict[str, str]:
    """{symbolic name: body} of every top-level resource of exactly that type."""
    found = re.findall(rf"^resource (\w+) '{re.escape(resource_type)}@[\d-]+(?:-preview)?'[^{{]*\{{\n(.*?)^\}}",
                       text, re.S | re.M)
    return dict(found)


def subscriptions() -> dict[str, str]:
    found = {}
    for text in [MAIN, EVENTS, *MODULES.values()]:
        found |= resource_blocks(text, "Microsoft.EventGrid/systemTopics/eventSubscriptions")
    return {name: body for name, body in found.items() if "existing" not in body.split("\n")[0]}


@pytest.mark.parametrize("resource_type", [
    "Microsoft.Storage/storageAccounts",
    "Microsoft.Storage/storageAccounts/blobServices",
    "Microsoft.Storage/storageAccounts/blobServices/containers",
    "Microsoft.Storage/storageAccounts/queueServices",
    "Microsoft.Storage/storageAccounts/queueServices/queues",
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
    assert len(assignments) >= 11
    assert ALL.count("subscriptionResourceId('Microsoft.Authorization/roleDefinitions'") == len(assignments)
    for block in re.findall(r"roleAssignments@[\d-]+' = [^{]*\{\n(.*?)\n\}", ALL, re.S):
        assert re.search(r"name: guid\(", block)


def assigned_roles(*texts: str) -> set[str]:
    """The role GUIDs the templates assign (through the `roles` map or a local variable)."""
    guids = set()
    for text in texts:
        names = dict(re.findall(rf"^\s*(?:var\s+)?(\w+)(?::\s*|\s*=\s*)'({GUID})'", text, re.M))
        for body in re.findall(r"roleAssignments@[\d-]+' = [^{]*\{\n(.*?)\n\}", text, re.S):
            ref = re.search(r"roleDefinitions', (?:roles\.)?(\w+)\)", body).group(1)
            guids.add(names[ref])
    return guids


def granted_roles(array: str) -> set[str]:
    block = re.search(rf"^{array}=\(\n(.*?)^\)", GRANT, re.S | re.M).group(1)
    return set(re.findall(rf"^\s*({GUID})", block, re.M))


def test_the_deploy_identity_may_assign_exactly_the_roles_the_bicep_assigns():
    app_rg = assigned_roles(MAIN, EVENTS, MODULES["blob-events.bicep"])
    ml_rg = assigned_roles(MODULES["ml-workspace.bicep"], MODULES["workspace-storage-reader.bicep"],
                           MODULES["ml-events.bicep"])
    assert granted_roles("APP_RG_ROLES") == app_rg and len(app_rg) == 7
    assert granted_roles("ML_RG_ROLES") == ml_rg == {ROLE_GUIDS["AzureML Data Scientist"],
                                                     ROLE_GUIDS["Storage Blob Data Reader"]}
    # Role Based Access Control Administrator, constrained by the "Constrain roles" ABAC condition
    assert "f58310d9-a9f6-439a-9e8d-f62e7b41a168" in GRANT and '--condition-version "2.0"' in GRANT
    for attribute in ("@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals",
                      "@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals",
                      "!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})",
                      "!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})"):
        assert attribute in GRANT, attribute
    commands = GRANT.split("set -euo pipefail", 1)[1]  # below the header comment
    assert not re.search(r"--role \"?(Owner|User Access Administrator)", commands)
    assert "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9" not in commands and "8e3af657-a8ff-443c-a75c-2fe8c4bcb635" not in commands


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


def test_host_storage_is_identity_based_with_the_system_assigned_identity():
    settings = re.search(r"^var appSettings = \{\n(.*?)^\}", MAIN, re.S | re.M).group(1)
    for name, endpoint in (("accountName", "storage.name"), ("blobServiceUri", "primaryEndpoints.blob"),
                           ("queueServiceUri", "primaryEndpoints.queue"), ("tableServiceUri", "primaryEndpoints.table")):
        assert re.search(rf"^\s+AzureWebJobsStorage__{name}: .*{re.escape(endpoint)}\s*$", settings, re.M), name
    # __credential / __clientId are for a user-assigned identity; the app's is system-assigned
    assert "AzureWebJobsStorage__credential" not in settings and "AzureWebJobsStorage__clientId" not in settings
    assert re.search(r"^\s+AzureWebJobsStorage:", settings, re.M) is None


def test_the_step_queue_exists_and_the_app_may_use_it():
    from shared.settings.declaration import BY_NAME

    queue = resource_block(MAIN, "Microsoft.Storage/storageAccounts/queueServices/queues")
    assert "parent: queueService" in queue and "name: stepQueueName" in queue
    assert f"param stepQueueName string = '{BY_NAME['STEP_QUEUE_NAME'].default}'" in MAIN
    assert re.search(r"^\s+STEP_QUEUE_NAME: stepQueueName$", MAIN, re.M)
    assert re.fullmatch(r"[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]", BY_NAME["STEP_QUEUE_NAME"].default + "-poison")
    owner = resource_blocks(MAIN, "Microsoft.Authorization/roleAssignments")["storageQueueContributor"]
    assert "scope: storage" in owner and "functionApp.identity.principalId" in owner


def test_no_secret_in_plain_text():
    # no connection strings with keys, SAS signatures, passwords or literal keys
    for pattern in [r"AccountKey=", r"SharedAccessSignature", r"[?&]sig=", r"password\s*[:=]\s*'",
                    r"code=[A-Za-z0-9_\-]{20,}", r"'[A-Za-z0-9+/]{40,}={0,2}'"]:
        assert not re.search(pattern, ALL + PARAMS + EVENTS_PARAMS, re.I), pattern
    # secret parameters are @secure() and have no literal default
    for name in ["approvalSigningKey", "teamsWebhookUrl", "notifyWebhookUrl"]:
        assert re.search(rf"@secure\(\)\nparam {name} string = ''", MAIN), name
        assert re.search(rf"param {name} = readEnvironmentVariable\(", PARAMS), name
    for text in (EVENTS, MODULES["blob-events.bicep"]):
        assert re.search(r"@secure\(\)\n(@description\(.*\)\n)?param blobsExtensionKey string\n", text)
    assert "param blobsExtensionKey = readEnvironmentVariable('BLOBS_EXTENSION_KEY')" in EVENTS_PARAMS
    # no output carries a secret
    for line in re.findall(r"^output .*$", ALL, re.M):
        value = line.split("=", 1)[1]
        assert not re.search(r"list\w*\(|approvalSigningKey|teamsWebhookUrl|notifyWebhookUrl|ConnectionString|"
                             r"blobsExtensionKey|endpointUrl", value), line


def test_no_key_is_read_by_the_templates():
    """The blobs_extension key is a parameter: no list*() runs before the host has made the key."""
    assert not re.search(r"\blist\w*\(", ALL)
    assert "systemKeys.blobs_extension" not in ALL.replace("--query systemKeys.blobs_extension", "")


def test_signing_key_is_a_key_vault_reference():
    assert "enableRbacAuthorization: true" in resource_block(MAIN, "Microsoft.KeyVault/vaults")
    assert "APPROVAL_SIGNING_KEY: kvRef.signingKey" in MAIN
    assert re.search(r"signingKey: '@Microsoft\.KeyVault\(SecretUri=\$\{vault\.properties\.vaultUri\}secrets/", MAIN)


def test_the_subscriptions_come_only_in_the_second_deployment():
    assert "eventSubscriptions@" not in MAIN and "deployEventSubscriptions" not in ALL + PARAMS
    assert re.search(r"^module dataBlobCreated 'modules/blob-events\.bicep' = \{", EVENTS, re.M)
    assert re.search(r"^module mlEvents 'modules/ml-events\.bicep' = \{\n.*?scope: resourceGroup\(mlWorkspaceResourceGroup\)",
                     EVENTS, re.S | re.M)
    assert set(subscriptions()) == {"dataBlobCreated", "modelRegistered", "jobStatusChanged"}


def test_event_grid_wiring():
    blob = MODULES["blob-events.bicep"]
    assert "'Microsoft.Storage.BlobCreated'" in blob
    assert "var dataBlobs = '/blobServices/default/containers/${dataContainer}/blobs/'" in blob
    assert "subjectBeginsWith: dataBlobs" in blob
    assert "/runtime/webhooks/blobs?functionName=Host.Functions.on_data_blob&code=${blobsExtensionKey}'" in blob
    assert "topicType: 'Microsoft.Storage.StorageAccounts'" in MAIN
    ml = MODULES["ml-events.bicep"]
    assert "topicType: 'Microsoft.MachineLearningServices.Workspaces'" in MODULES["ml-workspace.bicep"]
    assert ml.count("endpointType: 'AzureFunction'") == 2
    assert "/functions/on_model_registered'" in ml and "/functions/on_job_status_changed'" in ml
    for event in ["ModelRegistered", "RunCompleted", "RunStatusChanged"]:
        assert f"'Microsoft.MachineLearningServices.{event}'" in ml
    assert "subjectBeginsWith: 'models/${modelName}:'" in ml


def test_the_service_s_own_copies_do_not_invoke_the_blob_trigger():
    from shared.services.repositories.batches import ACCEPTED_COPY_PREFIX

    block = subscriptions()["dataBlobCreated"]
    assert re.search(r"operatorType: 'StringNotBeginsWith'\s*key: 'subject'\s*values: \[ '\$\{dataBlobs\}"
                     + re.escape(ACCEPTED_COPY_PREFIX) + "' \\]", block)


def test_the_job_status_subscription_delivers_only_the_training_experiment_s_runs():
    block = subscriptions()["jobStatusChanged"]
    assert re.search(r"advancedFilters: \[\s*\{\s*operatorType: 'StringIn'\s*key: 'data\.experimentName'\s*"
                     r"values: \[ experimentName \]", block)
    # the same experiment the app's jobs run in: AZUREML_EXPERIMENT ← amlExperiment → experimentName
    assert re.search(r"^\s+AZUREML_EXPERIMENT: amlExperiment$", MAIN, re.M)
    assert "output experimentName string = amlExperiment" in MAIN
    assert "param experimentName = readEnvironmentVariable('experimentName')" in EVENTS_PARAMS


@pytest.mark.parametrize("name", ["dataBlobCreated", "modelRegistered", "jobStatusChanged"])
def test_every_subscription_has_a_retry_policy_and_a_dead_letter_destination(name):
    block = subscriptions()[name]
    assert re.search(r"retryPolicy: \{\s*maxDeliveryAttempts: maxDeliveryAttempts\s*"
                     r"eventTimeToLiveInMinutes: eventTimeToLiveInMinutes\s*\}", block)
    assert re.search(r"deadLetterWithResourceIdentity: \{\s*identity: \{\s*type: 'SystemAssigned'", block)
    assert re.search(r"deadLetterDestination: \{\s*endpointType: 'StorageBlob'\s*properties: \{\s*"
                     r"resourceId: deadLetterStorageAccountId\s*blobContainerName: deadLetterContainer\s*\}", block)
    assert "eventDeliverySchema: 'EventGridSchema'" in block
    assert re.search(r"@minValue\(1\)\n@maxValue\(30\)\nparam maxDeliveryAttempts int = 30", EVENTS)
    assert re.search(r"@minValue\(1\)\n@maxValue\(1440\)\nparam eventTimeToLiveInMinutes int = 1440", EVENTS)


def test_the_system_topics_write_dead_letters_with_their_identity():
    for text in (MAIN, MODULES["ml-workspace.bicep"]):
        topic = resource_block(text, "Microsoft.EventGrid/systemTopics")
        assert re.search(r"identity: \{\s*type: 'SystemAssigned'", topic)
    container = resource_blocks(MAIN, "Microsoft.Storage/storageAccounts/blobServices/containers")["deadLetterContainer"]
    assert "name: deadLetterContainerName" in container and "var deadLetterContainerName = 'event-deadletter'" in MAIN
    roles = resource_blocks(MAIN, "Microsoft.Authorization/roleAssignments")
    for name, principal in (("storageTopicDeadLetters", "storageTopic.identity.principalId"),
                            ("mlTopicDeadLetters", "ml.outputs.systemTopicPrincipalId")):
        assert "scope: deadLetterContainer" in roles[name] and principal in roles[name]
        assert "roles.storageBlobDataContributor" in roles[name]


def test_the_audit_retention_policy_is_written_only_while_it_is_unlocked():
    """A locked immutability policy accepts only Extend Immutability Policy: a PUT of it on every
    deployment would fail them all once an operator has locked it."""
    assert re.search(r"^param auditRetentionLocked bool = false$", MAIN, re.M)
    policies = re.findall(r"^resource (\w+) 'Microsoft\.Storage/storageAccounts/blobServices/containers/"
                          r"immutabilityPolicies@[\d-]+' = (.*)\{$", MAIN, re.M)
    assert policies == [("auditRetention", "if (!auditRetentionLocked) ")]
    body = resource_block(MAIN, "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies")
    assert "immutabilityPeriodSinceCreationInDays: auditRetentionDays" in body and "allowProtectedAppendWrites: true" in body
    # only explicit dependencies name it (ARM drops them when it is not deployed), never a property read
    uses = [line.strip() for line in MAIN.splitlines()
            if re.search(r"\bauditRetention\b", line) and not line.startswith("resource auditRetention ")]
    assert uses and all(re.fullmatch(r"dependsOn: \[[\w, ]*\]", use) for use in uses), uses
    # the lock step tells the operator to set the parameter, and how to lengthen a locked period
    section = re.search(r"^## The audit container\n(.*?)(?=^## )", README, re.S | re.M).group(1)
    assert section.index("immutability-policy lock") < section.index("param auditRetentionLocked = true")
    assert "immutability-policy extend" in section


def test_the_app_may_read_what_the_data_collector_writes_to_the_workspace_storage():
    ml = MODULES["ml-workspace.bicep"]
    store = resource_block(ml, "Microsoft.MachineLearningServices/workspaces/datastores")
    assert "parent: workspace" in store and "name: 'workspaceblobstore'" in store
    assert re.search(r"module workspaceStorageReader 'workspace-storage-reader\.bicep' = \{.*?"
                     r"storageAccountName: blobStore\.accountName", ml, re.S)
    reader = MODULES["workspace-storage-reader.bicep"]
    assert "scope: workspaceStorage" in reader and ROLE_GUIDS["Storage Blob Data Reader"] in reader
    assert "output blobEndpoint string = workspaceStorage.properties.primaryEndpoints.blob" in reader
    # the data collector settings the app reads (declared as set from the deployment)
    assert re.search(r"^\s+DATA_COLLECTOR_ACCOUNT_URL: ml\.outputs\.dataCollectorAccountUrl$", MAIN, re.M)
    assert re.search(r"^\s+DATA_COLLECTOR_CONTAINER: ml\.outputs\.dataCollectorContainer$", MAIN, re.M)
    assert "output dataCollectorContainer string = blobStore.containerName" in ml
    # the account's resource group: the workspace's unless given (the datastore does not name it)
    assert "param workspaceStorageResourceGroup string = resourceGroup().name" in ml
    assert re.search(r"module workspaceStorageReader 'workspace-storage-reader\.bicep' = \{\n.*\n"
                     r"  scope: resourceGroup\(workspaceStorageResourceGroup\)\n", ml)
    assert "param mlWorkspaceStorageResourceGroup string = mlWorkspaceResourceGroup" in MAIN
    assert re.search(r"^\s+workspaceStorageResourceGroup: mlWorkspaceStorageResourceGroup$", MAIN, re.M)


def test_the_default_endpoint_name_is_unique_per_resource_group_and_valid():
    from shared.domain.naming import validate_endpoint_name

    match = re.search(r"@minLength\(3\)\n@maxLength\(32\)\nparam endpointName string = '([a-z-]+)\$\{uniqueString\(resourceGroup\(\)\.id\)\}'", MAIN)
    assert match, "endpointName: a literal prefix + uniqueString(resourceGroup().id), 3-32 characters"
    for suffix in ("a" * 13, "0" * 13, "z9" * 6 + "q"):  # uniqueString: 13 lowercase letters/digits
        assert validate_endpoint_name(match.group(1) + suffix)
    assert "endpointName" not in re.sub(r"//.*", "", PARAMS)  # the unique default applies


def test_the_host_s_function_timeout_suits_flex_consumption_and_the_step_lease():
    from shared.services.promotion.steps import CLAIM_LEASE

    hours, minutes, seconds = map(int, json.loads((ROOT / "host.json").read_text())["functionTimeout"].split(":"))
    timeout = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    # Flex Consumption: default 30 min, no maximum; a step must end before its claim lease does
    assert timedelta(minutes=1) <= timeout < CLAIM_LEASE


def test_function_names_exist_in_the_app():
    source = "\n".join(p.read_text() for p in (ROOT / "blueprints").glob("*.py"))
    for name in ["on_data_blob", "on_model_registered", "on_job_status_changed"]:
        assert re.search(rf"def {name}\(", source), name
    assert "source=func.BlobSource.EVENT_GRID" in source


def parameters(text: str) -> list[str]:
    return re.findall(r"^param (\w+) ", text, re.M)


def test_every_parameter_and_output_documented():
    for text in (MAIN, EVENTS):
        for name in parameters(text):
            assert f"`{name}`" in README, f"parameter {name} not documented in infra/README.md"
        for name in re.findall(r"^output (\w+) ", text, re.M):
            assert f"`{name}`" in README, f"output {name} not documented in infra/README.md"


def test_bicepparam_names_only_known_parameters_and_all_required_ones():
    for template, given_text in ((MAIN, PARAMS), (EVENTS, EVENTS_PARAMS)):
        known = set(parameters(template))
        given = set(re.findall(r"^param (\w+) =", given_text, re.M))
        assert given <= known, given - known
        required = set(re.findall(r"^param (\w+) \w+\n", template, re.M))  # no default value
        assert required <= given, required - given
    assert "using './main.bicep'" in PARAMS and "using './events.bicep'" in EVENTS_PARAMS


def test_the_second_deployment_takes_its_values_from_the_first_one_s_outputs():
    outputs = set(re.findall(r"^output (\w+) ", MAIN, re.M))
    read = dict(re.findall(r"^param (\w+) = readEnvironmentVariable\('(\w+)'\)", EVENTS_PARAMS, re.M))
    assert set(read) == set(parameters(EVENTS)) - {"maxDeliveryAttempts", "eventTimeToLiveInMinutes"}
    assert {v for k, v in read.items() if k != "blobsExtensionKey"} <= outputs


def test_module_parameters_match_module_declarations():
    checked = 0
    for text, folder in ((MAIN, INFRA), (EVENTS, INFRA), (MODULES["ml-workspace.bicep"], INFRA / "modules")):
        for match in re.finditer(r"^module \w+ '([\w/-]+\.bicep)'.*?params: \{\n(.*?)\n  \}", text, re.S | re.M):
            module = (folder / match.group(1)).read_text()
            declared = set(parameters(module))
            passed = set(re.findall(r"^\s+(\w+):", match.group(2), re.M))
            assert passed <= declared, (match.group(1), passed - declared)
            required = set(re.findall(r"^param (\w+) \w+\n", module, re.M))
            assert required <= passed, (match.group(1), required - passed)
            checked += 1
    assert checked == 4

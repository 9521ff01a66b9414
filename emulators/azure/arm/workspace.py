"""The one emulated workspace (GET) and its datastores (list, get, the default, listSecrets).

Shapes: stable/2024-10-01/workspaceRP.json (Workspace) and mfe.json (Datastore,
AzureBlobDatastore, AccountKeyDatastoreSecrets); see SPECS.md.
"""
from __future__ import annotations

import re
import uuid
from typing import Any

from emulators.azure.http import Request, Response, Router

from .common import NAME, PROVIDER, WS, UserError, checked, page

WORKSPACE_TYPE = f"{PROVIDER}/workspaces"


def workspace_guid(config) -> str:
    """A stable workspace id (Azure ML's workspaceId is a GUID) derived from the resource id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, config.workspace_id.lower()))


def mlflow_host(config) -> str:
    return f"{config.location}.api.azureml.localhost:{config.https_port}"


def mlflow_tracking_uri(config) -> str:
    return f"azureml://{mlflow_host(config)}/mlflow/v1.0{config.workspace_id}"


def workspace_body(config) -> dict[str, Any]:
    rg_id = f"/subscriptions/{config.subscription_id}/resourceGroups/{config.resource_group}"
    return {
        "id": config.workspace_id, "name": config.workspace, "type": WORKSPACE_TYPE,
        "location": config.location, "kind": "Default", "tags": {},
        "sku": {"name": "Basic", "tier": "Basic"},
        "identity": {"type": "SystemAssigned", "principalId": str(uuid.uuid5(uuid.NAMESPACE_OID, config.workspace)),
                     "tenantId": config.tenant_id},
        "systemData": {"createdAt": "2026-01-01T00:00:00Z", "createdBy": "emulator", "createdByType": "Application"},
        "properties": {
            "friendlyName": config.workspace, "description": "Loopback Azure emulator workspace",
            "workspaceId": workspace_guid(config),
            "storageAccount": config.storage_account_id,
            "keyVault": f"{rg_id}/providers/Microsoft.KeyVault/vaults/kv-{config.workspace}",
            "applicationInsights": f"{rg_id}/providers/Microsoft.Insights/components/appi-{config.workspace}",
            "containerRegistry": None,
            "discoveryUrl": f"https://{mlflow_host(config)}/discovery",
            "mlFlowTrackingUri": mlflow_tracking_uri(config),
            "provisioningState": "Succeeded", "hbiWorkspace": False, "publicNetworkAccess": "Enabled",
            "v1LegacyMode": False, "systemDatastoresAuthMode": "accesskey",
            "storageHnsEnabled": False, "enableDataIsolation": False,
        },
    }


def datastores(config) -> dict[str, dict[str, Any]]:
    """name → body: the workspace blob store (default) and the app's data container."""
    def blob(name: str, container: str, default: bool) -> dict[str, Any]:
        return {
            "id": f"{config.workspace_id}/datastores/{name}", "name": name,
            "type": f"{WORKSPACE_TYPE}/datastores",
            "systemData": {"createdAt": "2026-01-01T00:00:00Z", "createdBy": "emulator",
                           "createdByType": "Application"},
            "properties": {
                "datastoreType": "AzureBlob", "accountName": config.storage_account, "containerName": container,
                "endpoint": config.blob_suffix, "protocol": "https",
                "credentials": {"credentialsType": "AccountKey"}, "isDefault": default,
                "serviceDataAccessAuthIdentity": "None", "description": None, "tags": {}, "properties": {},
                "resourceGroup": config.resource_group, "subscriptionId": config.subscription_id,
            },
        }
    return {"workspaceblobstore": blob("workspaceblobstore", config.workspace_container, True),
            "retraindata": blob("retraindata", config.data_container, False)}


def account_key(connection_string: str) -> str:
    match = re.search(r"AccountKey=([^;]+)", connection_string or "")
    return match.group(1) if match else ""


def register(router: Router, context) -> None:
    config = context.config

    def get_workspace(request: Request) -> Response:
        checked(request, config, WORKSPACE_TYPE)
        return Response(200, workspace_body(config))

    def find(request: Request) -> dict[str, Any]:
        checked(request, config, f"{WORKSPACE_TYPE}/datastores")
        for name, body in datastores(config).items():
            if name.lower() == request.params["name"].lower():
                return body
        raise UserError(404, f"Datastore {request.params['name']} not found in workspace {config.workspace}",
                        "NotFound", datastoreName=request.params["name"], workspaceName=config.workspace)

    def list_datastores(request: Request) -> Response:
        checked(request, config, f"{WORKSPACE_TYPE}/datastores")
        items = list(datastores(config).values())
        if request.query.get("isDefault", "").lower() == "true":
            items = [d for d in items if d["properties"]["isDefault"]]
        wanted = [n.lower() for n in request.query.get("names", "").split(",") if n]
        if wanted:
            items = [d for d in items if d["name"].lower() in wanted]
        return page(items)

    def list_secrets(request: Request) -> Response:
        find(request)
        return Response(200, {"secretsType": "AccountKey", "key": account_key(config.storage_connection)})

    router.route("GET", WS + "/?", get_workspace)
    router.route("GET", WS + "/datastores/?", list_datastores)
    router.route("GET", WS + f"/datastores/{NAME}", lambda request: Response(200, find(request)))
    router.route("POST", WS + f"/datastores/{NAME}/listSecrets", list_secrets)

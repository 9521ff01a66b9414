"""Where the SDK uploads a code snapshot: POST .../codes/{name}/versions/{version}/startPendingUpload
(pendingUploadType TemporaryBlobReference) answers a container of its own on the workspace's
storage account (Azurite) with a SAS the SDK uploads with (it treats the SAS URL as a container
URL and writes <folder name>/... into it); the code version's codeUri then points into it.
Shapes: mfe.json PendingUploadRequestDto / PendingUploadResponseDto."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from emulators.azure.http import HttpError, Request, Response, Router

from .assets import KINDS
from .common import NAME, PROVIDER, VERSION, WS, checked, json_object
from .workspace import account_key


def blob_endpoint(config) -> str:
    return f"https://{config.storage_account}.blob.{config.blob_suffix}"


def container_sas(config, container: str) -> str:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    return generate_container_sas(
        config.storage_account, container, account_key=account_key(config.storage_connection),
        permission=ContainerSasPermissions(read=True, write=True, create=True, add=True, list=True, delete=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1), protocol="https")


def register(router: Router, context) -> None:
    config = context.config

    def start_pending_upload(request: Request) -> Response:
        kind = request.params["kind"].lower()
        checked(request, config, f"{PROVIDER}/workspaces/{kind}/versions")
        body = json_object(request)
        upload_type = body.get("pendingUploadType", "TemporaryBlobReference")
        if upload_type != "TemporaryBlobReference":
            raise HttpError(400, "UserError", f"Unsupported pendingUploadType '{upload_type}'.")
        upload_id = body.get("pendingUploadId") or uuid.uuid4().hex
        container = f"{config.workspace_container[:24].rstrip('-')}-{upload_id[:32]}".lower()
        context.blob_service().create_container(container)
        blob_uri = f"{blob_endpoint(config)}/{container}"
        return Response(200, {
            "blobReferenceForConsumption": {
                "blobUri": blob_uri, "storageAccountArmId": config.storage_account_id,
                "credential": {"credentialType": "SAS", "sasUri": f"{blob_uri}?{container_sas(config, container)}"},
            },
            "pendingUploadId": upload_id, "pendingUploadType": upload_type,
        })

    router.route("POST", WS + f"/(?P<kind>{'|'.join(KINDS)})/{NAME}/versions/{VERSION}/startPendingUpload",
                 start_pending_upload)

"""ARM's cloud metadata (GET /metadata/endpoints): one cloud, "AzureEmulator", whose resource
manager is the emulator and whose storage suffix is Azurite's, as azure-ai-ml reads it
(_azure_environments._get_clouds_by_metadata_url / _convert_arm_to_cli: name, portal,
resourceManager, authentication.loginEndpoint, suffixes.storage)."""
from __future__ import annotations

from typing import Any

from emulators.azure.http import HttpError, Request, Response, Router

CLOUD_NAME = "AzureEmulator"
PORTAL = "https://portal.azure.localhost/"
LOGIN = "https://login.localhost/"


def cloud(config) -> dict[str, Any]:
    """The cloud in ARM's metadata shape (the 2019-05-01 fields)."""
    manager = config.base_url + "/"
    return {
        "name": CLOUD_NAME,
        "portal": PORTAL,
        "resourceManager": manager,
        "authentication": {"loginEndpoint": LOGIN, "audiences": [manager, "https://management.azure.com/"],
                           "tenant": "common", "identityProvider": "AAD"},
        "media": "https://rest.media.localhost",
        "graphAudience": "https://graph.localhost/",
        "graph": "https://graph.localhost/",
        "batch": "https://batch.localhost/",
        "microsoftGraphResourceId": "https://graph.microsoft.localhost/",
        "activeDirectoryDataLake": "https://datalake.localhost/",
        "sqlManagement": "https://management.core.localhost:8443/",
        "gallery": "https://gallery.localhost/",
        "suffixes": {"storage": config.blob_suffix, "keyVaultDns": "vault.localhost",
                     "sqlServerHostname": "database.localhost", "acrLoginServer": "azurecr.localhost"},
    }


def register(router: Router, context) -> None:
    """GET /metadata/endpoints?api-version=2019-05-01 (a list of clouds; 2022-09-01 answers one)."""
    config = context.config

    def endpoints(request: Request) -> Response:
        version = request.api_version
        if not version:
            raise HttpError(400, "MissingApiVersionParameter",
                            "The api-version query parameter (?api-version=) is required for all requests.")
        if version >= "2022-09-01":
            return Response(200, cloud(config))
        return Response(200, [cloud(config)])

    router.route("GET", r"/metadata/endpoints/?", endpoints)

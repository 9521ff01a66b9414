"""The api-versions the emulated Microsoft.MachineLearningServices provider accepts, and ARM's
answers to a request without one, with a malformed one or with one the provider does not have.

The set is the provider's published versions that azure-ai-ml 1.35.2 sends (see SPECS.md for
which operation group sends which) plus the stable versions around them; ARM keeps one list per
resource type, the emulator one list for all of them.
"""
from __future__ import annotations

import re

from emulators.azure.http import HttpError, Request

SDK_VERSIONS = (
    "2022-02-01-preview", "2022-05-01", "2022-10-01", "2022-10-01-preview", "2023-02-01-preview",
    "2023-04-01", "2023-04-01-preview", "2023-06-01-preview", "2023-08-01-preview", "2023-10-01",
    "2024-01-01-preview", "2024-04-01-preview", "2024-10-01-preview", "2025-01-01-preview", "2025-12-01",
)
STABLE_VERSIONS = ("2021-07-01", "2022-12-01", "2024-04-01", "2024-10-01", "2025-06-01", "2025-09-01")
SUPPORTED = frozenset(SDK_VERSIONS + STABLE_VERSIONS)
_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}(-(preview|alpha|beta|privatepreview))?", re.I)


def supported_list() -> str:
    return ", ".join(sorted(SUPPORTED))


def check_api_version(request: Request, resource_type: str, location: str) -> str:
    """The request's api-version, or ARM's 400 for a missing, malformed or unknown one."""
    version = request.api_version
    if not version:
        raise HttpError(400, "MissingApiVersionParameter",
                        "The api-version query parameter (?api-version=) is required for all requests.")
    if not _FORMAT.fullmatch(version):
        raise HttpError(400, "InvalidApiVersionParameter",
                        f"The api-version '{version}' is invalid. The supported versions are '{supported_list()}'.")
    if version not in SUPPORTED:
        raise HttpError(400, "NoRegisteredProviderFound",
                        f"No registered resource provider found for location '{location}' and API version "
                        f"'{version}' for type '{resource_type}'. The supported api-versions are "
                        f"'{supported_list()}'. The supported locations are '{location}'.")
    return version

"""New data files: the blob trigger, the data status API and withdrawing a file from training."""
from __future__ import annotations

import importlib.util
import logging
import sys
from types import ModuleType

import azure.functions as func

from blueprints.http import http_errors, json_response, page_response, query_choice
from blueprints.requests import json_body, page_params, reviewer
from shared.bootstrap import get_services
from shared.domain.batches import ACCEPTED, REJECTED
from shared.domain.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)
bp = func.Blueprint()


def _lazy_module(name: str) -> ModuleType:
    """``name``, executed on first attribute access instead of now (a missing package still fails now)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# The SDK-type extension imports the storage SDK (~200 ms). It loads when the worker resolves the
# trigger's annotation while indexing (typing.get_type_hints: azure_functions_worker/functions.py),
# not when function_app is imported; the first invocation would need that SDK anyway.
blob = _lazy_module("azurefunctions.extensions.bindings.blob")

MAX_BLOB_NAME_CHARS = 1024  # Azure's limit for a blob name


# Every blob of the data container, our own immutable copies (`_accepted/<sha256>`) included: the
# service skips those (in Azure the BlobCreated subscription may also leave that prefix out).
# The parameter is an SDK type (azurefunctions-extensions-bindings-blob): the host sends only the
# blob's connection, container and name, and the worker builds a BlobClient from them, so a file of
# up to MAX_DATA_FILE_BYTES never travels to the worker as bytes. The client is not used to read:
# the service streams the version it decides on through its own storage port.
@bp.blob_trigger(
    arg_name="client",
    path="%DATA_CONTAINER%/{name}",
    connection="AzureWebJobsStorage",
    source=func.BlobSource.EVENT_GRID,
)
def on_data_blob(client: blob.BlobClient) -> None:
    container, name = client.container_name, client.blob_name
    try:
        batch = get_services().ingestion.handle_new_file(container, name)
    except NotFound as gone:
        log.warning("%s; nothing to validate", gone.message)
        return
    if batch is None:
        log.info("data file %s/%s is one of the kept copies of accepted data: skipped", container, name[:80])
        return
    log.info("data file %s/%s: %s", container, name, batch.summary)


@bp.route(route="data", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def list_data(req: func.HttpRequest) -> func.HttpResponse:
    status = query_choice(req, "status", {ACCEPTED, REJECTED})
    limit, continuation = page_params(req)
    return page_response("files", get_services().ingestion.list_batches(status, limit, continuation))


@bp.route(route="data/{*name}", methods=["DELETE"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def withdraw_data(req: func.HttpRequest) -> func.HttpResponse:
    """Every version of the file leaves later training sets. The name is the rest of the path:
    slashes as they are, anything else percent-encoded (a host leaves '%2F' encoded)."""
    name = req.route_params.get("name") or ""
    if not 1 <= len(name) <= MAX_BLOB_NAME_CHARS:
        raise InvalidInput(f"data file name must be 1 to {MAX_BLOB_NAME_CHARS} characters (has {len(name)})")
    fields = json_body(req, required=False)
    return json_response(get_services().ingestion.withdraw(name, reviewer(req, fields)))

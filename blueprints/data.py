"""New data files: the blob trigger, the data status API and withdrawing a file from training."""
from __future__ import annotations

import logging

import azure.functions as func

from blueprints.http import http_errors, json_response, page_response, query_choice
from blueprints.requests import json_body, page_params, reviewer
from shared.bootstrap import get_services
from shared.domain.batches import ACCEPTED, REJECTED
from shared.domain.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)
bp = func.Blueprint()

MAX_BLOB_NAME_CHARS = 1024  # Azure's limit for a blob name


# Every blob of the data container, our own immutable copies (`_accepted/<sha256>`) included: the
# service skips those (in Azure the BlobCreated subscription may also leave that prefix out).
@bp.blob_trigger(
    arg_name="blob",
    path="%DATA_CONTAINER%/{name}",
    connection="AzureWebJobsStorage",
    source=func.BlobSource.EVENT_GRID,
)
def on_data_blob(blob: func.InputStream) -> None:
    container, _, name = blob.name.partition("/")
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

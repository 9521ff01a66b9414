"""New data files: the blob trigger and the data status API."""
from __future__ import annotations

import logging

import azure.functions as func

from blueprints.http import http_errors, page_response, query_choice
from blueprints.requests import page_params
from shared.bootstrap import get_services
from shared.domain.batches import ACCEPTED, REJECTED
from shared.domain.errors import NotFound

log = logging.getLogger(__name__)
bp = func.Blueprint()


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
    log.info("data file %s/%s: %s", container, name, batch.summary)


@bp.route(route="data", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def list_data(req: func.HttpRequest) -> func.HttpResponse:
    status = query_choice(req, "status", {ACCEPTED, REJECTED})
    limit, continuation = page_params(req)
    return page_response("files", get_services().ingestion.list_batches(status, limit, continuation))

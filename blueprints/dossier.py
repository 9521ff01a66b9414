"""The dossier of a model version (function key): one zip with everything recorded about it."""
from __future__ import annotations

import azure.functions as func

from blueprints.http import http_errors
from blueprints.pages import evidence as evidence_page
from blueprints.pages import layout
from blueprints.pages.text import esc
from blueprints.requests import version_param
from shared.bootstrap import get_services
from shared.domain.errors import InvalidInput

bp = func.Blueprint()


@bp.route(route="candidates/{name}/{version}/dossier", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def candidate_dossier(req: func.HttpRequest) -> func.HttpResponse:
    services = get_services()
    name, version = req.route_params.get("name") or "", version_param(req)
    if name != services.settings.model_name:
        raise InvalidInput(f"this service handles model {services.settings.model_name!r}, not {name[:60]!r}")
    archive = services.dossier.archive(version, evidence_html)
    # The file name is built from the model's configured name and the checked version, never the route's text.
    return func.HttpResponse(archive.content, status_code=200, mimetype=archive.media_type, headers={
        "Content-Disposition": f'attachment; filename="{archive.file_name}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


def evidence_html(document: dict | None, note: str) -> str:
    """The evidence page of the document, or a page saying why there is none."""
    if document is None:
        return layout.html_document("No evidence document", f"<p>{esc(note)}</p>")
    digest = get_services().evidence.digest(document)
    return layout.html_document(evidence_page.title(document), evidence_page.body(document, evidence_digest=digest),
                                heading="")

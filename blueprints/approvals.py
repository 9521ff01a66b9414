"""Approvals: the JSON API (function key), the signed-link pages (anonymous + token), the sweeper."""
from __future__ import annotations

import logging

import azure.functions as func

from blueprints import review_pages
from blueprints.http import accepted, http_errors, json_response, page_response
from blueprints.requests import (
    APP_SERVICE, auth_mode, decider, form_body, json_body, page_params, route_id, signed_in, text_field,
)
from shared.bootstrap import get_services
from shared.domain.errors import DomainError, InvalidInput, NotFound, Unauthorized

log = logging.getLogger(__name__)
bp = func.Blueprint()


@bp.route(route="approvals", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def list_approvals(req: func.HttpRequest) -> func.HttpResponse:
    limit, continuation = page_params(req)
    return page_response("approvals", get_services().approvals.list(req.params.get("status"), limit, continuation))


@bp.route(route="approvals/{id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def get_approval(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(get_services().approvals.view(route_id(req, "id", "approval")))


@bp.route(route="approvals/{id}/{action}", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def decide_approval(req: func.HttpRequest) -> func.HttpResponse:
    fields = json_body(req, required=False)
    services = get_services()
    approval = services.approvals.decide(
        route_id(req, "id", "approval"), req.route_params["action"], decider(req, fields), text_field(fields, "comment"),
        via="api",
    )
    return accepted(approval.to_dict(), services.urls.approval(approval.id))


@bp.route(route="review/{id}/{action}", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
def review_link(req: func.HttpRequest) -> func.HttpResponse:
    """A GET (what chat previewers and scanners do) only shows the confirmation; its button POSTs.
    Behind App Service authentication the link also needs a signed-in principal on APPROVERS, so
    a forwarded link is useless to anyone else."""
    approval_id, action = req.route_params["id"], req.route_params["action"]
    try:
        if action not in ("approve", "reject"):
            raise InvalidInput("unknown action")
        services = get_services()
        approvals = services.approvals
        if req.method == "GET":
            mode = auth_mode()
            principal = signed_in(req, mode)
            token = req.params.get("token", "")
            approval = approvals.check_link(approval_id, action, token)
            if mode == APP_SERVICE:
                # before the decided page too: it names the decider and shows the comment
                _check_signed_in_approver(approvals, principal)
            if approval.status != "pending":
                return review_pages.decided(approval)
            document = evidence_of(services, approval.id)
            if evidence_changed(services, approval, document):
                return changed_evidence_page(approval)
            return review_pages.confirmation(approval, action, token, principal.display if principal else None,
                                             document)
        fields = form_body(req)
        token = fields.get("token") or req.params.get("token", "")
        approval = approvals.decide(approval_id, action, decider(req, fields), text_field(fields, "comment"),
                                    via="link", link_token=token)
        return review_pages.decided(approval)
    except DomainError as error:
        return review_pages.problem(error.status, error.message)
    except Exception:
        log.exception("review link failed")
        return review_pages.problem(500, "internal error")


def _check_signed_in_approver(approvals, principal) -> None:
    """The confirmation page's early answer (the POST checks again, and records a refusal)."""
    if principal is None:
        raise Unauthorized("sign in: this link works only for a signed-in approver")
    approvals.config.approvers.check(principal)


@bp.route(route="review/{id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def review_details(req: func.HttpRequest) -> func.HttpResponse:
    """The card's Details link (a view token): the evidence page of the approval, read-only. Behind
    App Service authentication it, like the decision links, needs a signed-in principal on APPROVERS."""
    try:
        services = get_services()
        mode = auth_mode()
        principal = signed_in(req, mode)
        approval = services.approvals.check_link(req.route_params["id"], "view", req.params.get("token", ""))
        if mode == APP_SERVICE:
            _check_signed_in_approver(services.approvals, principal)
        document = evidence_of(services, approval.id)
        if evidence_changed(services, approval, document):
            return changed_evidence_page(approval)
        return review_pages.details(approval, document)
    except DomainError as error:
        return review_pages.problem(error.status, error.message)
    except Exception:
        log.exception("review details failed")
        return review_pages.problem(500, "internal error")


def evidence_of(services, approval_id: str) -> dict | None:
    """The evidence document the approval was issued with; None for approvals made before there were any."""
    try:
        return services.evidence.for_approval(approval_id)
    except NotFound:
        return None


def evidence_changed(services, approval, document: dict | None) -> bool:
    """Whether the stored document is not the one the approval was issued with (edited, or no longer
    digestible); False without a digest or a document (the pages then show the approval's own summary)."""
    if not approval.evidence_digest or document is None:
        return False
    try:
        return services.evidence.digest(document) != approval.evidence_digest
    except Exception:  # noqa: BLE001 - e.g. a NaN edited in: not the document that was sent
        return True


def changed_evidence_page(approval) -> func.HttpResponse:
    """Instead of a document that is not the one sent: the page says so, shows none of it, and offers no decision."""
    follow = ("deciding will void it, and a redeploy then asks again with fresh evidence"
              if approval.status == "pending" else "it is not shown")
    return review_pages.problem(409, f"The evidence of approval {approval.id} changed since it was sent; {follow}.",
                                title="The evidence of this approval changed")


@bp.route(route="rollback", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def rollback(req: func.HttpRequest) -> func.HttpResponse:
    fields = json_body(req, required=False)
    services = get_services()
    production = services.rollback.rollback(decider(req, fields), text_field(fields, "comment"), via="api")
    return accepted(production.to_dict(), services.urls.production())


@bp.route(route="audit", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def audit(req: func.HttpRequest) -> func.HttpResponse:
    raw = req.params.get("limit", "100")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 4 or not 1 <= int(raw) <= 1000:
        raise InvalidInput("limit must be an integer from 1 to 1000")
    entries = get_services().approvals.audit_log(int(raw))
    return json_response({"entries": entries, "count": len(entries)})


@bp.timer_trigger(arg_name="timer", schedule="%APPROVAL_SWEEPER_SCHEDULE%", run_on_startup=False)
def approval_sweeper(timer: func.TimerRequest) -> None:
    report = get_services().sweeper.sweep()
    log.info("approval sweeper: %s", report.to_dict())

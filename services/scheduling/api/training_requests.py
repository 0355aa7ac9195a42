"""Training requests: a jurisdiction asks for the series; a national admin approves it into a cohort or declines."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from services.scheduling import repository as repo
from services.scheduling.models import TrainingRequest
from services.scheduling.repository import lists
from services.scheduling.schemas.training_requests import (
    ApproveSchema,
    DeclineSchema,
    RequestQueryArgs,
    TrainingRequestPage,
    TrainingRequestSchema,
)
from services.scheduling.use_cases import training_requests as use_cases
from shared.auth import AGENCY_COORDINATOR, JURISDICTION_ADMIN, NATIONAL_ADMIN
from shared.http.api import Blueprint, context, correlation_id, principal, request_uow, require
from shared.http.idempotency import idempotent
from shared.http.pagination import link_header, paginate

blp = Blueprint(
    "requests",
    __name__,
    url_prefix="/requests",
    description="Training requests of jurisdictions and the national admins' decisions on them.",
)


def _get(request_id: str, *, for_update: bool = False) -> TrainingRequest:
    return repo.get_scoped(
        request_uow().session, TrainingRequest, request_id, principal(), what="training request", for_update=for_update
    )


@blp.route("")
class RequestCollection(MethodView):
    @require(*repo.MANAGERS)
    @blp.arguments(RequestQueryArgs, location="query")
    @blp.response(200, TrainingRequestPage)
    def get(self, args):
        """List training requests: your jurisdiction's, or every jurisdiction's for a national admin."""
        page = paginate(
            request_uow().session,
            lists.training_requests(principal(), args.get("status"), args.get("tenant")),
            order_by=[TrainingRequest.updated_at, TrainingRequest.id],
            args=args,
            config=context().config,
            updated_column=TrainingRequest.updated_at,
            change_column=TrainingRequest.change,
        )
        return page, 200, link_header(page)

    @idempotent
    @require(JURISDICTION_ADMIN, AGENCY_COORDINATOR)
    @blp.arguments(TrainingRequestSchema)
    @blp.response(201, TrainingRequestSchema)
    def post(self, data):
        """Request the series for your jurisdiction: format, preferred windows, expected participants, host agency."""
        request = use_cases.submit_request(data, request_uow(), principal(), correlationid=correlation_id())
        return request, 201, {"Location": url_for(".RequestItem", request_id=request.id)}


@blp.route("/<request_id>")
class RequestItem(MethodView):
    @require(*repo.MANAGERS)
    @blp.response(200, TrainingRequestSchema)
    def get(self, request_id):
        """Show a training request with its status history."""
        return _get(request_id)


@blp.route("/<request_id>/approve")
class RequestApprove(MethodView):
    @idempotent
    @require(NATIONAL_ADMIN)
    @blp.arguments(ApproveSchema)
    @blp.response(200, TrainingRequestSchema)
    def post(self, data, request_id):
        """Approve a submitted request; its cohort is created (cohort_id) with these settings."""
        uow = request_uow()
        request = _get(request_id, for_update=True)
        return use_cases.approve_request(request, data, uow, principal(), correlationid=correlation_id())


@blp.route("/<request_id>/decline")
class RequestDecline(MethodView):
    @require(NATIONAL_ADMIN)
    @blp.arguments(DeclineSchema)
    @blp.response(200, TrainingRequestSchema)
    def post(self, data, request_id):
        """Decline a submitted request with a reason."""
        uow = request_uow()
        request = _get(request_id, for_update=True)
        return use_cases.decline_request(request, data, uow, principal(), correlationid=correlation_id())

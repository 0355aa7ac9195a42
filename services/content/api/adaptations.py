"""Adaptations of a module by facilitators, and their fidelity review by Infant/Toddler Specialists."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from services.content import repository as repo
from services.content.domain.adaptations import FIDELITY_CHECKLIST
from services.content.models import Adaptation, AdaptationReview
from services.content.repository import lists
from services.content.schemas.adaptations import (
    AdaptationPage,
    AdaptationQueryArgs,
    AdaptationReviewPage,
    AdaptationReviewSchema,
    AdaptationSchema,
    AdaptationUpdateSchema,
    FidelityChecklistSchema,
)
from services.content.use_cases import adaptations as use_cases
from shared.auth import FACILITATOR, SPECIALIST
from shared.http.api import Blueprint, context, correlation_id, principal, request_uow, require
from shared.http.idempotency import idempotent
from shared.http.pagination import PageArgs, link_header, paginate

blp = Blueprint(
    "adaptations",
    __name__,
    url_prefix="/adaptations",
    description="Facilitators' adaptations of a module and the specialists' fidelity review of them.",
)


@blp.route("/fidelity-checklist")
class FidelityChecklist(MethodView):
    @require()
    @blp.response(200, FidelityChecklistSchema)
    def get(self):
        """List the fidelity checklist items a review must answer."""
        return {"items": list(FIDELITY_CHECKLIST)}


@blp.route("")
class AdaptationCollection(MethodView):
    @require()
    @blp.arguments(AdaptationQueryArgs, location="query")
    @blp.response(200, AdaptationPage)
    def get(self, args):
        """List the adaptations you can see: your own, or your jurisdiction's if you review or administer it."""
        page = paginate(
            request_uow().session,
            lists.adaptations(principal(), args.get("status"), args.get("module_id")),
            order_by=[Adaptation.updated_at, Adaptation.id],
            args=args,
            config=context().config,
            updated_column=Adaptation.updated_at,
            change_column=Adaptation.change,
        )
        return page, 200, link_header(page)

    @idempotent
    @require(FACILITATOR)
    @blp.arguments(AdaptationSchema)
    @blp.response(201, AdaptationSchema)
    def post(self, data):
        """Start a draft adaptation of a module: a decision (kept, adapted, dropped) per core component."""
        adaptation = use_cases.create_adaptation(data, request_uow(), principal())
        return adaptation, 201, {"Location": url_for(".AdaptationItem", adaptation_id=adaptation.id)}


@blp.route("/<adaptation_id>")
class AdaptationItem(MethodView):
    @require()
    @blp.etag
    @blp.response(200, AdaptationSchema)
    def get(self, adaptation_id):
        """Show an adaptation with its reviews."""
        return repo.get_adaptation(request_uow().session, adaptation_id, principal())

    @require(FACILITATOR)
    @blp.etag
    @blp.arguments(AdaptationUpdateSchema)
    @blp.response(200, AdaptationSchema)
    def patch(self, data, adaptation_id):
        """Change your draft (or an adaptation sent back for changes); send the ETag you read as If-Match."""
        uow = request_uow()
        adaptation = repo.get_adaptation(uow.session, adaptation_id, principal(), for_update=True)
        blp.check_etag(adaptation, AdaptationSchema)
        return use_cases.update_adaptation(adaptation, data, uow, principal())


@blp.route("/<adaptation_id>/submit")
class AdaptationSubmit(MethodView):
    @require(FACILITATOR)
    @blp.response(200, AdaptationSchema)
    def post(self, adaptation_id):
        """Submit your adaptation for fidelity review; every core component needs a decision."""
        uow = request_uow()
        adaptation = repo.get_adaptation(uow.session, adaptation_id, principal(), for_update=True)
        return use_cases.submit_adaptation(adaptation, uow, principal(), correlationid=correlation_id())


@blp.route("/<adaptation_id>/reviews")
class AdaptationReviews(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, AdaptationReviewPage)
    def get(self, args, adaptation_id):
        """List an adaptation's reviews, oldest first."""
        session = request_uow().session
        repo.get_adaptation(session, adaptation_id, principal())
        page = paginate(
            session,
            lists.reviews_of(adaptation_id),
            order_by=[AdaptationReview.created_at, AdaptationReview.id],
            args=args,
            config=context().config,
            updated_column=AdaptationReview.created_at,
            change_column=AdaptationReview.change,
        )
        return page, 200, link_header(page)

    @idempotent
    @require(SPECIALIST)
    @blp.arguments(AdaptationReviewSchema)
    @blp.response(201, AdaptationReviewSchema)
    def post(self, data, adaptation_id):
        """Review the submitted revision of an adaptation of your jurisdiction: approve or request changes."""
        uow = request_uow()
        adaptation = repo.get_adaptation(uow.session, adaptation_id, principal(), for_update=True)
        return use_cases.review_adaptation(adaptation, data, uow, principal(), correlationid=correlation_id())

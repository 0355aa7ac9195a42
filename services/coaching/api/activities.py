"""Support activities logged by coaches and specialists: confidential notes, history, audit."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from services.coaching.api import page_of
from services.coaching.schemas.activities import (
    ActivityPage,
    ActivityQueryArgs,
    ActivitySchema,
    ActivityUpdateSchema,
    AuditPage,
    RevisionPage,
)
from services.coaching.use_cases import activities as use_cases
from shared.auth import COACH, SPECIALIST
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.idempotency import idempotent
from shared.http.pagination import PageArgs, link_header

blp = Blueprint(
    "activities",
    __name__,
    url_prefix="/activities",
    description="Meetings, coaching, consultations and office hours with trainers; notes are confidential.",
)


@blp.route("")
class ActivityCollection(MethodView):
    @require()
    @blp.arguments(ActivityQueryArgs, location="query")
    @blp.response(200, ActivityPage)
    def get(self, args):
        """List the activities you may see, by last change; notes only where you may read them."""
        page = page_of(use_cases.list_activities(context().db, principal(), args), args)
        return page, 200, link_header(page)

    @idempotent
    @require(SPECIALIST, COACH)
    @blp.arguments(ActivitySchema)
    @blp.response(201, ActivitySchema)
    def post(self, data):
        """Log an activity with a trainer of your jurisdiction."""
        activity = use_cases.log_activity(data, request_uow(), principal())
        return activity, 201, {"Location": url_for(".ActivityItem", activity_id=activity.id)}


@blp.route("/<activity_id>")
class ActivityItem(MethodView):
    @require()
    @blp.response(200, ActivitySchema)
    def get(self, activity_id):
        """Show an activity; its notes only if you wrote them, are the trainer's specialist or the admin."""
        return use_cases.show_activity(request_uow().session, context().db, activity_id, principal())

    @require(SPECIALIST, COACH)
    @blp.arguments(ActivityUpdateSchema)
    @blp.response(200, ActivitySchema)
    def patch(self, data, activity_id):
        """Change your activity, or complete a draft (status logged); the version before stays in its history."""
        return use_cases.edit_activity(activity_id, data, request_uow(), principal())


@blp.route("/<activity_id>/revisions")
class ActivityRevisions(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, RevisionPage)
    def get(self, args, activity_id):
        """List an activity's revisions, oldest first: every edit is kept."""
        listing = use_cases.revisions_of(request_uow().session, context().db, activity_id, principal())
        page = page_of(listing, args)
        return page, 200, link_header(page)


@blp.route("/<activity_id>/audit")
class ActivityAudit(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, AuditPage)
    def get(self, args, activity_id):
        """List who wrote and who read the activity's notes, and when (jurisdiction admins)."""
        page = page_of(use_cases.audit_of(request_uow().session, activity_id, principal()), args)
        return page, 200, link_header(page)

"""Implementation plans and their commitments; a specialist's caseload; jurisdiction settings."""

from __future__ import annotations

from flask.views import MethodView

from services.coaching.api import page_of
from services.coaching.schemas.plans import (
    CaseloadArgs,
    CaseloadSchema,
    DeliverySchema,
    PlanPage,
    PlanQueryArgs,
    PlanSchema,
    PlanUpdateSchema,
    SettingsSchema,
    TimeFrameSchema,
    TrainerSeriesListSchema,
    TrainerSeriesSchema,
)
from services.coaching.use_cases import plans as use_cases
from shared.auth import JURISDICTION_ADMIN, NATIONAL_ADMIN, SPECIALIST
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.pagination import link_header

blp = Blueprint(
    "plans",
    __name__,
    url_prefix="",
    description="Trainers' implementation plans, their commitment to deliver the training, and caseloads.",
)


def today():
    return context().extra["clock"]().date()


@blp.route("/plans")
class PlanCollection(MethodView):
    @require()
    @blp.arguments(PlanQueryArgs, location="query")
    @blp.response(200, PlanPage)
    def get(self, args):
        """List your jurisdiction's plans (a trainer: their own), by last change; sync with changed_after."""
        page = page_of(use_cases.list_plans(principal(), args, today()), args)
        return page, 200, link_header(page)


@blp.route("/plans/<plan_id>")
class PlanItem(MethodView):
    @require()
    @blp.response(200, PlanSchema)
    def get(self, plan_id):
        """Show a plan with its commitment: status as of today, due date, agreement, milestones."""
        return use_cases.show_plan(request_uow().session, plan_id, principal(), today())

    @require(JURISDICTION_ADMIN)
    @blp.arguments(PlanUpdateSchema)
    @blp.response(200, PlanSchema)
    def patch(self, data, plan_id):
        """Assign the trainer another Infant/Toddler Specialist."""
        return use_cases.assign_specialist(plan_id, data["specialist"], request_uow(), principal(), today())


@blp.route("/plans/<plan_id>/time-frame")
class PlanTimeFrame(MethodView):
    @require(JURISDICTION_ADMIN, SPECIALIST)
    @blp.arguments(TimeFrameSchema)
    @blp.response(200, PlanSchema)
    def put(self, data, plan_id):
        """Record the agreed time frame (who agreed, when); the due date becomes completion + the time frame."""
        return use_cases.agree_time_frame(plan_id, data, request_uow(), principal(), today())


@blp.route("/plans/<plan_id>/delivery")
class PlanDelivery(MethodView):
    @require(JURISDICTION_ADMIN, SPECIALIST)
    @blp.arguments(DeliverySchema)
    @blp.response(200, PlanSchema)
    def put(self, data, plan_id):
        """Record a delivery by hand, with evidence: the commitment is fulfilled."""
        return use_cases.record_delivery(plan_id, data, request_uow(), principal(), today())


@blp.route("/caseload")
class Caseload(MethodView):
    @require(SPECIALIST, JURISDICTION_ADMIN)
    @blp.arguments(CaseloadArgs, location="query")
    @blp.response(200, CaseloadSchema)
    def get(self, args):
        """A specialist's trainers: commitment status, last contact, next follow-up; overdue first.

        Jurisdiction admins see any specialist's (`specialist`), or the trainers whose plan names no
        specialist yet (`unassigned=true`), to assign them one.
        """
        return use_cases.caseload(request_uow().session, principal(), args, args.get("as_of") or today())


@blp.route("/settings")
class Settings(MethodView):
    @require(JURISDICTION_ADMIN, SPECIALIST)
    @blp.response(200, SettingsSchema)
    def get(self):
        """Show your jurisdiction's default specialist and time frame for new plans, and its consent."""
        return use_cases.settings_for(request_uow().session, principal().tenant)

    @require(JURISDICTION_ADMIN)
    @blp.arguments(SettingsSchema)
    @blp.response(200, SettingsSchema)
    def patch(self, data):
        """Change your jurisdiction's default specialist or time frame (plans opened from now on)."""
        return use_cases.change_settings(data, request_uow(), principal())


@blp.route("/trainer-series")
class TrainerSeriesCollection(MethodView):
    @require()
    @blp.response(200, TrainerSeriesListSchema)
    def get(self):
        """List the series whose completion opens a plan (the training for trainers)."""
        return use_cases.trainer_series(request_uow().session)


@blp.route("/trainer-series/<series_id>")
class TrainerSeriesItem(MethodView):
    @require(NATIONAL_ADMIN)
    @blp.response(200, TrainerSeriesSchema)
    def put(self, series_id):
        """Name a series of the content service (its id) as the training for trainers."""
        return use_cases.add_trainer_series(series_id, request_uow(), principal())

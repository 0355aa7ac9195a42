"""Specialists by name: who a plan's specialist is, and the list admins choose plans' specialists from."""

from __future__ import annotations

from flask.views import MethodView

from services.coaching.schemas.specialists import (
    SpecialistNameSchema,
    SpecialistPage,
    SpecialistQueryArgs,
    SpecialistSchema,
)
from services.coaching.use_cases import specialists as use_cases
from shared.auth import INTEGRATION, JURISDICTION_ADMIN, SPECIALIST
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.pagination import link_header

blp = Blueprint(
    "specialists",
    __name__,
    url_prefix="",
    description="Specialists by name: plans' specialists are read by name and chosen by name.",
)


@blp.route("/specialists")
class Specialists(MethodView):
    @require()
    @blp.arguments(SpecialistQueryArgs, location="query")
    @blp.response(200, SpecialistPage, description="Ordered by name, then jurisdiction and subject.")
    @blp.alt_response(403, description="Without `sub`, for someone who is not coaching's staff.")
    def get(self, args):
        """List your jurisdiction's specialists by name (every jurisdiction's for national staff), or name some.

        A specialist is known once they have signed in to the portal or logged support, or once a
        jurisdiction admin or state system entered them. With `sub`, anyone of the jurisdiction names
        those specialists (a trainer reads their own specialist's name); without it, the list is for
        coaching's staff (specialists, coaches, admins, state systems).
        """
        page = use_cases.specialists_page(request_uow().session, principal(), args, context().config)
        return page, 200, link_header(page)


@blp.route("/specialists/<sub>")
class SpecialistEntry(MethodView):
    @require(JURISDICTION_ADMIN, INTEGRATION)
    @blp.arguments(SpecialistNameSchema)
    @blp.response(200, SpecialistSchema)
    def put(self, data, sub):
        """Enter or rename a specialist of your jurisdiction, e.g. from your identity provider before they sign in.

        Their own next sign-in names them as their identity provider's token does. Entering a withdrawn
        specialist offers them again.
        """
        return use_cases.enter_specialist(sub, data, request_uow(), principal())

    @require(JURISDICTION_ADMIN, INTEGRATION)
    @blp.response(200, SpecialistSchema)
    @blp.alt_response(404, description="Coaching knows no specialist of your jurisdiction with this subject.")
    def delete(self, sub):
        """Withdraw a specialist who left: no longer offered as a plan's specialist.

        The plans that name them still do, so their trainers still read the name: assign those plans
        another specialist (`PATCH /plans/{id}`). Withdrawing again changes nothing; `PUT` offers them again.
        """
        return use_cases.withdraw_specialist(sub, request_uow(), principal())


@blp.route("/me/specialist-entry")
class MySpecialistEntry(MethodView):
    @require(SPECIALIST)
    @blp.response(200, SpecialistSchema)
    @blp.alt_response(422, description="Your sign-in gives no name.")
    def put(self):
        """Be known by the name your sign-in gives: the trainers you support read it on their commitment.

        The portal does it at each sign-in, so a rename at the identity provider reaches the trainers.
        """
        return use_cases.enter_myself(request_uow(), principal())

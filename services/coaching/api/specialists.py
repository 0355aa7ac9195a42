"""Specialists by name: who a plan's specialist is, for the trainer and everyone who reads the plan."""

from __future__ import annotations

from flask.views import MethodView

from services.coaching.schemas.specialists import SpecialistListSchema, SpecialistQueryArgs, SpecialistSchema
from services.coaching.use_cases import specialists as use_cases
from shared.auth import SPECIALIST
from shared.http.api import Blueprint, principal, request_uow, require

blp = Blueprint(
    "specialists",
    __name__,
    url_prefix="",
    description="Specialists by the name they sign in with, so plans' specialists are read by name.",
)


@blp.route("/specialists")
class SpecialistNames(MethodView):
    @require()
    @blp.arguments(SpecialistQueryArgs, location="query")
    @blp.response(200, SpecialistListSchema)
    def get(self, args):
        """Name these specialists of your jurisdiction (every jurisdiction's for national staff).

        A specialist is known once they have signed in to the portal or logged support.
        """
        return use_cases.names_of(request_uow().session, principal(), args["sub"])


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

"""Fidelity observations of trainers' deliveries, and each trainer's trend."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from services.coaching.api import page_of
from services.coaching.schemas.fidelity import (
    ObservationPage,
    ObservationQueryArgs,
    ObservationSchema,
    TrendArgs,
    TrendSchema,
)
from services.coaching.use_cases import fidelity as use_cases
from shared.auth import SPECIALIST
from shared.http.api import Blueprint, principal, request_uow, require
from shared.http.idempotency import idempotent
from shared.http.pagination import link_header

blp = Blueprint(
    "fidelity",
    __name__,
    url_prefix="/observations",
    description="Specialists' fidelity observations of trainers delivering sessions.",
)


@blp.route("")
class ObservationCollection(MethodView):
    @require()
    @blp.arguments(ObservationQueryArgs, location="query")
    @blp.response(200, ObservationPage)
    def get(self, args):
        """List your jurisdiction's observations (a trainer: their own), by last change."""
        page = page_of(use_cases.list_observations(principal(), args), args)
        return page, 200, link_header(page)

    @idempotent
    @require(SPECIALIST)
    @blp.arguments(ObservationSchema)
    @blp.response(201, ObservationSchema)
    def post(self, data):
        """Record an observation: per core component of the session, kept, adapted or dropped."""
        observation = use_cases.observe(data, request_uow(), principal())
        return observation, 201, {"Location": url_for(".ObservationCollection", trainer=observation.trainer)}


@blp.route("/trend")
class ObservationTrend(MethodView):
    @require()
    @blp.arguments(TrendArgs, location="query")
    @blp.response(200, TrendSchema)
    def get(self, args):
        """A trainer's fidelity scores over time, their average and whether they are improving."""
        return use_cases.trend_of(request_uow().session, principal(), args["trainer"])

"""Jurisdictions: the states, territories and Tribes that are the platform's tenants, with their default zones."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from services.scheduling.models import Jurisdiction
from services.scheduling.repository import lists
from services.scheduling.schemas.agencies import JurisdictionPage, JurisdictionSchema, NewJurisdictionSchema
from services.scheduling.use_cases import agencies as use_cases
from shared.auth import NATIONAL_ADMIN
from shared.errors import NotFound
from shared.http.api import Blueprint, context, correlation_id, request_uow, require
from shared.http.idempotency import idempotent
from shared.http.pagination import PageArgs, link_header, paginate

blp = Blueprint(
    "jurisdictions",
    __name__,
    url_prefix="/jurisdictions",
    description="The states, territories and Tribes, each with the time zone its sessions default to.",
)


@blp.route("")
class JurisdictionCollection(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, JurisdictionPage)
    def get(self, args):
        """List every jurisdiction (states, DC, territories and Tribes) by code."""
        page = paginate(
            request_uow().session,
            lists.jurisdictions(),
            order_by=[Jurisdiction.code],
            args=args,
            config=context().config,
        )
        return page, 200, link_header(page)

    @idempotent
    @require(NATIONAL_ADMIN)
    @blp.arguments(NewJurisdictionSchema)
    @blp.response(201, JurisdictionSchema)
    def post(self, data):
        """Add a Tribe with its default IANA time zone (national admins); its people may use every service."""
        row = use_cases.add_jurisdiction(data, request_uow(), correlationid=correlation_id())
        # This process lets the Tribe's callers in at once; the others read it within seconds.
        context().jurisdictions.learn(row.code)
        return row, 201, {"Location": url_for(".JurisdictionItem", code=row.code)}


@blp.route("/<code>")
class JurisdictionItem(MethodView):
    @require()
    @blp.response(200, JurisdictionSchema)
    def get(self, code):
        """Show one jurisdiction."""
        row = request_uow().session.get(Jurisdiction, code)
        if row is None:
            raise NotFound("No jurisdiction with this code.")
        return row

"""Host agencies of a jurisdiction, their venues (address, zone) and rooms (capacity, accessibility)."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from services.scheduling import repository as repo
from services.scheduling.models import HostAgency, Room, Venue
from services.scheduling.repository import lists
from services.scheduling.schemas.agencies import (
    AgencyPage,
    AgencySchema,
    AgencyUpdateSchema,
    RoomPage,
    RoomSchema,
    VenuePage,
    VenueSchema,
)
from services.scheduling.use_cases import agencies as use_cases
from shared.auth import JURISDICTION_ADMIN, NATIONAL_ADMIN
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.idempotency import idempotent
from shared.http.pagination import PageArgs, link_header, paginate

blp = Blueprint(
    "agencies",
    __name__,
    description="Host agencies, their venues and rooms; agency coordinators manage their own agency's.",
)


def _agency(agency_id: str) -> HostAgency:
    return repo.get_scoped(request_uow().session, HostAgency, agency_id, principal(), what="host agency")


def _venue(venue_id: str) -> Venue:
    return repo.get_scoped(request_uow().session, Venue, venue_id, principal(), what="venue")


@blp.route("/agencies")
class AgencyCollection(MethodView):
    @require(*repo.STAFF)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, AgencyPage)
    def get(self, args):
        """List your jurisdiction's host agencies (every jurisdiction's for a national admin)."""
        page = paginate(
            request_uow().session,
            lists.host_agencies(principal()),
            order_by=[HostAgency.updated_at, HostAgency.id],
            args=args,
            config=context().config,
            updated_column=HostAgency.updated_at,
            change_column=HostAgency.change,
        )
        return page, 200, link_header(page)

    @idempotent
    @require(JURISDICTION_ADMIN)
    @blp.arguments(AgencySchema)
    @blp.response(201, AgencySchema)
    def post(self, data):
        """Add a host agency to your jurisdiction, naming its coordinators (subs)."""
        agency = use_cases.create_agency(data, request_uow(), principal())
        return agency, 201, {"Location": url_for(".AgencyItem", agency_id=agency.id)}


@blp.route("/agencies/<agency_id>")
class AgencyItem(MethodView):
    @require(*repo.STAFF)
    @blp.etag
    @blp.response(200, AgencySchema)
    def get(self, agency_id):
        """Show a host agency."""
        return _agency(agency_id)

    @require(NATIONAL_ADMIN, JURISDICTION_ADMIN)
    @blp.etag
    @blp.arguments(AgencyUpdateSchema)
    @blp.response(200, AgencySchema)
    def patch(self, data, agency_id):
        """Change a host agency or its coordinators; send the ETag you read as If-Match."""
        agency = _agency(agency_id)
        blp.check_etag(agency, AgencySchema)
        return use_cases.update_agency(agency, data, request_uow(), principal())


@blp.route("/agencies/<agency_id>/venues")
class AgencyVenues(MethodView):
    @require(*repo.STAFF)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, VenuePage)
    def get(self, args, agency_id):
        """List an agency's venues with their rooms."""
        session = request_uow().session
        _agency(agency_id)
        page = paginate(
            session,
            lists.venues_of(agency_id),
            order_by=[Venue.updated_at, Venue.id],
            args=args,
            config=context().config,
            updated_column=Venue.updated_at,
            change_column=Venue.change,
        )
        return page, 200, link_header(page)

    @idempotent
    @require(*repo.MANAGERS)
    @blp.arguments(VenueSchema)
    @blp.response(201, VenueSchema)
    def post(self, data, agency_id):
        """Add a venue (name, address, IANA time zone) to an agency you manage."""
        venue = use_cases.create_venue(_agency(agency_id), data, request_uow(), principal())
        return venue, 201, {"Location": url_for(".VenueItem", venue_id=venue.id)}


@blp.route("/venues/<venue_id>")
class VenueItem(MethodView):
    @require(*repo.STAFF)
    @blp.response(200, VenueSchema)
    def get(self, venue_id):
        """Show a venue with its rooms."""
        return _venue(venue_id)


@blp.route("/venues/<venue_id>/rooms")
class VenueRooms(MethodView):
    @require(*repo.STAFF)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, RoomPage)
    def get(self, args, venue_id):
        """List a venue's rooms."""
        session = request_uow().session
        _venue(venue_id)
        page = paginate(
            session,
            lists.rooms_of(venue_id),
            order_by=[Room.updated_at, Room.id],
            args=args,
            config=context().config,
            updated_column=Room.updated_at,
            change_column=Room.change,
        )
        return page, 200, link_header(page)

    @idempotent
    @require(*repo.MANAGERS)
    @blp.arguments(RoomSchema)
    @blp.response(201, RoomSchema)
    def post(self, data, venue_id):
        """Add a room (capacity, accessibility notes) to a venue of an agency you manage."""
        room = use_cases.create_room(_venue(venue_id), data, request_uow(), principal())
        return room, 201, {"Location": url_for(".RoomItem", room_id=room.id)}


@blp.route("/rooms/<room_id>")
class RoomItem(MethodView):
    @require(*repo.STAFF)
    @blp.response(200, RoomSchema)
    def get(self, room_id):
        """Show a room."""
        return repo.get_scoped(request_uow().session, Room, room_id, principal(), what="room")

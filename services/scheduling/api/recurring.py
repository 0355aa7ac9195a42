"""Recurring series (office hours, community calls, meetings), their occurrences, and office-hour bookings."""

from __future__ import annotations

from flask.views import MethodView

from services.scheduling.domain.recurrence import parse_instant
from services.scheduling.models import OfficeHourBooking, RecurringSeries
from services.scheduling.repository import lists
from services.scheduling.schemas.recurring import (
    OccurrenceChangeSchema,
    OccurrenceListSchema,
    OccurrenceSchema,
    OfficeHourBookingPage,
    OfficeHourBookingSchema,
    RecurringSeriesPage,
    RecurringSeriesQueryArgs,
    RecurringSeriesSchema,
    RecurringSeriesUpdateSchema,
    SlotListSchema,
    SplitResultSchema,
    SplitSchema,
    WindowArgs,
)
from services.scheduling.use_cases import recurrence as use_cases
from shared.auth import JURISDICTION_ADMIN, SPECIALIST
from shared.http.api import Blueprint, context, correlation_id, principal, request_uow, require
from shared.http.idempotency import idempotent
from shared.http.pagination import PageArgs, link_header, paginate

blp = Blueprint(
    "recurring",
    __name__,
    description=(
        "Recurring series as RFC 5545 rules expanded in the series' own time zone, so local time holds across "
        "daylight-saving changes; one occurrence or this-and-following can change; office-hour slots are booked "
        "by the facilitators the specialist supports."
    ),
)


@blp.route("/recurring-series")
class SeriesCollection(MethodView):
    @require()
    @blp.arguments(RecurringSeriesQueryArgs, location="query")
    @blp.response(200, RecurringSeriesPage)
    def get(self, args):
        """List your jurisdiction's recurring series, optionally by kind or owner."""
        page = paginate(
            request_uow().session,
            lists.recurring_series(principal(), args.get("kind"), args.get("owner")),
            order_by=[RecurringSeries.updated_at, RecurringSeries.id],
            args=args,
            config=context().config,
            updated_column=RecurringSeries.updated_at,
            change_column=RecurringSeries.change,
        )
        return page, 200, link_header(page)

    @idempotent
    @require(SPECIALIST, JURISDICTION_ADMIN)
    @blp.arguments(RecurringSeriesSchema)
    @blp.response(201, RecurringSeriesSchema)
    def post(self, data):
        """Start a recurring series held by you; 409 if it overlaps your sessions or other series."""
        return use_cases.create_series(data, request_uow(), principal())


@blp.route("/recurring-series/<series_id>")
class SeriesItem(MethodView):
    @require()
    @blp.etag
    @blp.response(200, RecurringSeriesSchema)
    def get(self, series_id):
        """Show a recurring series."""
        return use_cases.get_series(request_uow().session, series_id, principal())

    @require()
    @blp.etag
    @blp.arguments(RecurringSeriesUpdateSchema)
    @blp.response(200, RecurringSeriesSchema)
    def patch(self, data, series_id):
        """Change the title, meeting link or supported facilitators (owner or jurisdiction admin); send
        the ETag you read as If-Match."""
        uow = request_uow()
        series = use_cases.get_series(uow.session, series_id, principal(), for_update=True)
        blp.check_etag(series, RecurringSeriesSchema)
        return use_cases.update_series(series, data, uow, principal())


@blp.route("/recurring-series/<series_id>/cancel")
class SeriesCancel(MethodView):
    @require()
    @blp.response(200, RecurringSeriesSchema)
    def post(self, series_id):
        """Cancel every occurrence from now on; booked office-hour slots are cancelled too."""
        uow = request_uow()
        series = use_cases.get_series(uow.session, series_id, principal(), for_update=True)
        return use_cases.cancel_series(series, uow, principal(), correlationid=correlation_id())


@blp.route("/recurring-series/<series_id>/occurrences")
class SeriesOccurrences(MethodView):
    @require()
    @blp.arguments(WindowArgs, location="query")
    @blp.response(200, OccurrenceListSchema)
    def get(self, args, series_id):
        """List the occurrences overlapping [from, to), in UTC and local time, with changes applied."""
        db = request_uow().session
        series = use_cases.get_series(db, series_id, principal())
        return {"items": use_cases.occurrences_between(db, series, args["start"], args["end"])}


@blp.route("/recurring-series/<series_id>/occurrences/<original_start>")
class OccurrenceItem(MethodView):
    @require()
    @blp.arguments(OccurrenceChangeSchema)
    @blp.response(200, OccurrenceSchema)
    def patch(self, data, series_id, original_start):
        """Move, shorten, cancel or reinstate one occurrence, named by its original start (UTC)."""
        uow = request_uow()
        series = use_cases.get_series(uow.session, series_id, principal(), for_update=True)
        return use_cases.change_occurrence(
            series, parse_instant(original_start), data, uow, principal(), correlationid=correlation_id()
        )


@blp.route("/recurring-series/<series_id>/split")
class SeriesSplit(MethodView):
    @require()
    @blp.arguments(SplitSchema)
    @blp.response(201, SplitResultSchema)
    def post(self, data, series_id):
        """Change this and following occurrences: the series ends before `at`, a new one continues."""
        uow = request_uow()
        series = use_cases.get_series(uow.session, series_id, principal(), for_update=True)
        return use_cases.split_series(series, data, uow, principal(), correlationid=correlation_id())


@blp.route("/office-hours/<series_id>/slots")
class OfficeHourSlots(MethodView):
    @require()
    @blp.arguments(WindowArgs, location="query")
    @blp.response(200, SlotListSchema)
    def get(self, args, series_id):
        """List the slots in [from, to) (default: the next 31 days, at most 92) with their availability."""
        db, who = request_uow().session, principal()
        series = use_cases.get_office_hours(db, series_id, who)
        return {"items": use_cases.list_slots(db, series, args["start"], args["end"], who)}


@blp.route("/office-hours/<series_id>/bookings")
class OfficeHourBookings(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, OfficeHourBookingPage)
    def get(self, args, series_id):
        """List bookings: all of them for the specialist and admins, your own for a facilitator."""
        db, who = request_uow().session, principal()
        series = use_cases.get_office_hours(db, series_id, who)
        page = paginate(
            db,
            use_cases.bookings_query(series, who),
            order_by=[OfficeHourBooking.slot_start, OfficeHourBooking.id],
            args=args,
            config=context().config,
            updated_column=OfficeHourBooking.updated_at,
            change_column=OfficeHourBooking.change,
        )
        return page, 200, link_header(page)

    @idempotent
    @require()
    @blp.arguments(OfficeHourBookingSchema)
    @blp.response(201, OfficeHourBookingSchema)
    def post(self, data, series_id):
        """Book a slot as a facilitator the specialist supports; 409 if it is taken or you are busy then."""
        uow, who = request_uow(), principal()
        series = use_cases.get_office_hours(uow.session, series_id, who)
        return use_cases.book_slot(series, data, uow, who, correlationid=correlation_id())


@blp.route("/office-hours/<series_id>/bookings/<booking_id>/cancel")
class OfficeHourBookingCancel(MethodView):
    @require()
    @blp.response(200, OfficeHourBookingSchema)
    def post(self, series_id, booking_id):
        """Cancel a booked slot (the facilitator who booked it, the specialist or an admin)."""
        uow, who = request_uow(), principal()
        series = use_cases.get_office_hours(uow.session, series_id, who)
        booking = use_cases.get_booking(uow.session, series, booking_id)
        return use_cases.cancel_booking(series, booking, uow, who, correlationid=correlation_id())

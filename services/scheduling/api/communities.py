"""Learning communities' calls and meetings, their attendance and calendar feed, and national audio-conferences."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from services.scheduling.api.calendars import CALENDAR_EXAMPLE, CALENDAR_MEDIA_TYPE
from services.scheduling.community_models import AudioConferenceRegistration, CommunityCall
from services.scheduling.repository import communities as repo
from services.scheduling.schemas.communities import (
    AttendanceSchema,
    AudioConferenceQueryArgs,
    AudioConferenceRegistrationSchema,
    AudioConferenceSchema,
    CallChangeSchema,
    CallQueryArgs,
    CommunityCallPage,
    CommunityCallSchema,
    CommunityFeedSchema,
    FeedArgs,
    RegistrationPage,
    ScheduleCallsSchema,
    ScheduledCallsSchema,
)
from services.scheduling.use_cases import communities as use_cases
from shared.auth import NATIONAL_ADMIN
from shared.http.api import Blueprint, context, correlation_id, principal, request_uow, require
from shared.http.idempotency import idempotent
from shared.http.pagination import PageArgs, link_header, paginate

blp = Blueprint(
    "communities",
    __name__,
    description=(
        "A learning community's calls and meetings (recurring ~50-minute calls, expert sessions, face-to-face "
        "meetings), seen only by its members, national admins and the admins of member jurisdictions (404 for "
        "anyone else); national audio-conferences anyone may register for."
    ),
)


def _page(stmt, args):
    page = paginate(
        request_uow().session,
        stmt,
        order_by=[CommunityCall.starts_at, CommunityCall.id],
        args=args,
        config=context().config,
        updated_column=CommunityCall.updated_at,
        change_column=CommunityCall.change,
    )
    page["items"] = [use_cases.present(c) for c in page["items"]]
    return page


@blp.route("/communities/<community_id>/calls")
class CommunityCalls(MethodView):
    @require()
    @blp.arguments(CallQueryArgs, location="query")
    @blp.response(200, CommunityCallPage)
    def get(self, args, community_id):
        """List the community's calls and meetings in time order."""
        stmt = use_cases.calls_query(request_uow().session, community_id, principal(), status=args.get("status"))
        page = _page(stmt, args)
        return page, 200, link_header(page)

    @idempotent
    @require()
    @blp.arguments(ScheduleCallsSchema)
    @blp.response(201, ScheduledCallsSchema)
    def post(self, data, community_id):
        """Schedule a call or meeting, or one per occurrence of a recurrence rule; members are invited."""
        return use_cases.schedule_calls(community_id, data, request_uow(), principal(), correlationid=correlation_id())


@blp.route("/community-calls/<call_id>")
class CommunityCallItem(MethodView):
    @require()
    @blp.etag
    @blp.response(200, CommunityCallSchema)
    def get(self, call_id):
        """Show one call, meeting or audio-conference."""
        return use_cases.present(use_cases.get_call(request_uow().session, call_id, principal()))

    @require()
    @blp.etag
    @blp.arguments(CallChangeSchema)
    @blp.response(200, CommunityCallSchema)
    def patch(self, data, call_id):
        """Move or cancel this one call (its SEQUENCE goes up and its invitees are told), or set its agenda or
        minutes; send the ETag you read as If-Match."""
        uow = request_uow()
        call = use_cases.get_call(uow.session, call_id, principal(), for_update=True)
        blp.check_etag(use_cases.present(call), CommunityCallSchema)
        return use_cases.change_call(call, data, uow, principal(), correlationid=correlation_id())


@blp.route("/community-calls/<call_id>/attendance")
class CommunityCallAttendance(MethodView):
    @require()
    @blp.response(200, AttendanceSchema)
    def get(self, call_id):
        """Who was marked present or absent."""
        db = request_uow().session
        return use_cases.attendance_of(db, use_cases.get_call(db, call_id, principal()), principal())

    @require()
    @blp.arguments(AttendanceSchema)
    @blp.response(200, AttendanceSchema)
    def put(self, data, call_id):
        """Mark members present or absent (from 30 minutes before the start); a mark given again is changed in place."""
        uow = request_uow()
        call = use_cases.get_call(uow.session, call_id, principal(), for_update=True)
        return use_cases.record_attendance(call, data["marks"], uow, principal())


@blp.route("/communities/<community_id>/calendar-feeds")
class CommunityFeeds(MethodView):
    # No Idempotency-Key replay: it would keep the token in clear.
    @require()
    @blp.response(201, CommunityFeedSchema)
    def post(self, community_id):
        """Create your private feed URL of the community's calls (members and national admins)."""
        return use_cases.create_feed(
            community_id, request_uow(), principal(), base_url=context().config.public_base_url
        )


@blp.route("/communities/<community_id>/calendar.ics")
class CommunityCalendar(MethodView):
    @blp.doc(security=[], summary="Read a community's calendar (the token in the URL is the credential).")
    @blp.arguments(FeedArgs, location="query")
    @blp.response(
        200,
        {"type": "string", "example": CALENDAR_EXAMPLE},
        content_type=CALENDAR_MEDIA_TYPE,
        description="An RFC 5545 calendar of the community's calls, with their VTIMEZONEs.",
    )
    @blp.alt_response(404, description="Unknown or revoked token, or its creator is no longer a member.")
    def get(self, args, community_id):
        """Serve the community's calls as text/calendar."""
        db = request_uow().session
        community = use_cases.feed_for(db, community_id, args["token"])
        return Response(
            use_cases.render_feed(db, community),
            status=200,
            content_type=f"{CALENDAR_MEDIA_TYPE}; charset=utf-8",
            headers={
                "Content-Disposition": 'inline; filename="community.ics"',
                "Cache-Control": "private, no-cache",
                "Referrer-Policy": "no-referrer",
                "X-Robots-Tag": "noindex",
            },
        )


@blp.route("/audio-conferences")
class AudioConferences(MethodView):
    @require()
    @blp.arguments(AudioConferenceQueryArgs, location="query")
    @blp.response(200, CommunityCallPage)
    def get(self, args):
        """List the national audio-conferences (any authenticated caller)."""
        page = _page(repo.audio_conferences(status=args.get("status")), args)
        return page, 200, link_header(page)

    @idempotent
    @require(NATIONAL_ADMIN)
    @blp.arguments(AudioConferenceSchema)
    @blp.response(201, CommunityCallSchema)
    def post(self, data):
        """Announce a national audio-conference (national admins)."""
        return use_cases.create_audio_conference(data, request_uow(), principal(), correlationid=correlation_id())


@blp.route("/audio-conferences/<call_id>/registrations")
class AudioConferenceRegistrations(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, RegistrationPage)
    def get(self, args, call_id):
        """Every registration for national admins; your own for anyone else."""
        db = request_uow().session
        call = use_cases.get_audio_conference(db, call_id)
        page = paginate(
            db,
            use_cases.registrations_query(call, principal()),
            order_by=[AudioConferenceRegistration.updated_at, AudioConferenceRegistration.id],
            args=args,
            config=context().config,
            updated_column=AudioConferenceRegistration.updated_at,
            change_column=AudioConferenceRegistration.change,
        )
        return page, 200, link_header(page)

    @require()
    @blp.arguments(AudioConferenceRegistrationSchema)
    @blp.response(201, AudioConferenceRegistrationSchema)
    @blp.alt_response(
        200, schema=AudioConferenceRegistrationSchema, description="You were already registered: the same registration."
    )
    def post(self, data, call_id):
        """Register yourself (anyone authenticated); registering again answers 200 with the same registration."""
        uow = request_uow()
        call = use_cases.get_audio_conference(uow.session, call_id, for_update=True)
        row, created = use_cases.register(call, data, uow, principal(), correlationid=correlation_id())
        return row, 201 if created else 200

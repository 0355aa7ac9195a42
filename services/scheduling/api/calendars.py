"""Private iCalendar feeds: create and revoke feed URLs, and serve each feed at its token's address."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from services.scheduling.models import CalendarFeed
from services.scheduling.schemas.calendars import (
    CalendarFeedPage,
    CalendarFeedSchema,
    CreatedCalendarFeedSchema,
)
from services.scheduling.use_cases import calendars as use_cases
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.pagination import PageArgs, link_header, paginate

blp = Blueprint(
    "calendars",
    __name__,
    description=(
        "iCalendar (RFC 5545) feeds per cohort, participant and facilitator behind private token URLs: "
        "stable UIDs, SEQUENCE bumped on each change, STATUS:CANCELLED on cancel, VTIMEZONE included."
    ),
)

CALENDAR_MEDIA_TYPE = "text/calendar"
CALENDAR_EXAMPLE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t4t//scheduling//EN\r\nBEGIN:VEVENT\r\n"
    "UID:5b0e…@t4t\r\nSEQUENCE:0\r\nDTSTART;TZID=America/Los_Angeles:20270112T090000\r\n"
    "STATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@blp.route("/calendar-feeds")
class FeedCollection(MethodView):
    @require()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, CalendarFeedPage)
    def get(self, args):
        """List the feeds you created (their tokens are never shown again)."""
        page = paginate(
            request_uow().session,
            use_cases.feeds_query(principal()),
            order_by=[CalendarFeed.created_at, CalendarFeed.id],
            args=args,
            config=context().config,
        )
        return page, 200, link_header(page)

    # No Idempotency-Key replay here: it would keep the response, and with it the token, in clear.
    @require()
    @blp.arguments(CalendarFeedSchema)
    @blp.response(201, CreatedCalendarFeedSchema)
    @blp.alt_response(404, description="A cohort feed's cohort is unknown, or of another jurisdiction.")
    def post(self, data):
        """Create a private feed URL: yours, or a cohort's if you manage or facilitate it."""
        return use_cases.create_feed(data, request_uow(), principal(), base_url=context().config.public_base_url)


@blp.route("/calendar-feeds/<feed_id>/revoke")
class FeedRevoke(MethodView):
    @require()
    @blp.response(200, CalendarFeedSchema)
    def post(self, feed_id):
        """Revoke a feed: its URL answers 404 from now on."""
        return use_cases.revoke_feed(feed_id, request_uow(), principal())


@blp.route("/calendars/<token>.ics")
class FeedDocument(MethodView):
    @blp.doc(security=[], summary="Read a calendar feed (the token in the URL is the credential).")
    @blp.response(
        200,
        {"type": "string", "example": CALENDAR_EXAMPLE},
        content_type=CALENDAR_MEDIA_TYPE,
        description="An RFC 5545 calendar (UTF-8): one VEVENT per session, with its VTIMEZONE.",
    )
    @blp.alt_response(404, description="Unknown or revoked feed.")
    def get(self, token):
        """Serve the feed as text/calendar; unknown and revoked tokens get 404."""
        db = request_uow().session
        feed = use_cases.feed_for_token(db, token)
        body = use_cases.render(db, feed)
        return Response(
            body,
            status=200,
            content_type=f"{CALENDAR_MEDIA_TYPE}; charset=utf-8",
            headers={
                "Content-Disposition": 'inline; filename="t4t.ics"',
                # The URL is the secret: keep it out of shared caches and other sites' Referer headers.
                "Cache-Control": "private, no-cache",
                "Referrer-Policy": "no-referrer",
                "X-Robots-Tag": "noindex",
            },
        )

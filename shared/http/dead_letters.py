"""Dead letters over REST: a national admin lists them, replays one to its queue, or discards it."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from shared.auth import NATIONAL_ADMIN
from shared.db import utcnow
from shared.http.api import Blueprint, context, principal, request_uow, require
from shared.http.fields import Text
from shared.http.pagination import PageArgs, link_header, page_schema, paginate
from shared.http.problems import Problem
from shared.messaging.outbox import add_direct

blp = Blueprint(
    "dead_letters",
    __name__,
    url_prefix="/dead-letters",
    description="Messages a consumer gave up on; replay them once the cause is fixed.",
)


class DeadLetterSchema(Schema):
    id = fields.String(dump_only=True)
    queue = fields.String(dump_only=True)
    event_id = fields.String(dump_only=True, allow_none=True)
    event_type = fields.String(dump_only=True, allow_none=True)
    tenant = fields.String(dump_only=True, allow_none=True)
    reason = fields.String(dump_only=True)
    attempts = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    replayed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    replayed_by = fields.String(dump_only=True, allow_none=True)


class DeadLetterQuery(PageArgs):
    status = fields.String(load_default="dead", validate=validate.OneOf(["dead", "replayed", "discarded"]))
    queue = Text(200, load_default=None)


DeadLetterPage = page_schema(DeadLetterSchema, "DeadLetterPage")


def _get(session, letter_id: str):
    row = session.get(context().tables.dead_letter, letter_id)
    if row is None:
        raise Problem(404, "No dead letter with this id.", title="Not Found")
    return row


@blp.route("")
class DeadLetters(MethodView):
    @require(NATIONAL_ADMIN)
    @blp.arguments(DeadLetterQuery, location="query")
    @blp.response(200, DeadLetterPage)
    def get(self, args):
        """List dead letters, oldest first."""
        ctx = context()
        DeadLetter = ctx.tables.dead_letter
        stmt = select(DeadLetter).where(DeadLetter.status == args["status"])
        if args["queue"]:
            stmt = stmt.where(DeadLetter.queue == args["queue"])
        page = paginate(
            request_uow().session,
            stmt,
            order_by=[DeadLetter.created_at, DeadLetter.id],
            args=args,
            config=ctx.config,
            updated_column=DeadLetter.created_at,
            change_column=DeadLetter.change,
        )
        return page, 200, link_header(page)


@blp.route("/<letter_id>")
class DeadLetterItem(MethodView):
    @require(NATIONAL_ADMIN)
    @blp.response(200, DeadLetterSchema)
    def get(self, letter_id):
        """Show one dead letter with its message body."""
        return _get(request_uow().session, letter_id)


@blp.route("/<letter_id>/replay")
class DeadLetterReplay(MethodView):
    @require(NATIONAL_ADMIN)
    @blp.response(202, DeadLetterSchema)
    def post(self, letter_id):
        """Send the message back to its work queue (through the outbox, so it survives a broker outage)."""
        uow = request_uow()
        row = _get(uow.session, letter_id)
        if row.status != "dead":
            raise Problem(409, f"This dead letter is already {row.status}.", title="Conflict")
        add_direct(
            uow.session,
            context().tables,
            message_id=str(uuid.uuid4()),
            queue=row.queue,
            body=row.body,
            event_type=row.event_type or "unknown",
        )
        row.status, row.replayed_at, row.replayed_by = "replayed", utcnow(), principal().sub
        uow.commit()
        return row


@blp.route("/<letter_id>/discard")
class DeadLetterDiscard(MethodView):
    @require(NATIONAL_ADMIN)
    @blp.response(200, DeadLetterSchema)
    def post(self, letter_id):
        """Mark a dead letter as not to be replayed."""
        uow = request_uow()
        row = _get(uow.session, letter_id)
        if row.status != "dead":
            raise Problem(409, f"This dead letter is already {row.status}.", title="Conflict")
        row.status, row.replayed_by = "discarded", principal().sub
        uow.commit()
        return row

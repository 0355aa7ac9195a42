"""Addresses refused for good by their mail server, and the people whose e-mail they are."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.http.pagination import PageArgs, page_schema


class PersonAtAddressSchema(Schema):
    person = fields.String(dump_only=True, metadata={"description": "The person's `sub`, or their roster key."})
    name = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Their name as their contact point has it (null when unknown)."},
    )


class UndeliverableAddressSchema(Schema):
    address = fields.String(dump_only=True, metadata={"description": "As the refused message was addressed."})
    people = fields.List(
        fields.Nested(PersonAtAddressSchema),
        dump_only=True,
        metadata={
            "description": "The people of your jurisdiction whose e-mail this is (any case): whose record to mend."
        },
    )
    supervisor_of = fields.List(
        fields.Nested(PersonAtAddressSchema),
        dump_only=True,
        metadata={"description": "The people whose supervisor's e-mail this is (copies are sent to it)."},
    )
    reply = fields.String(
        dump_only=True, metadata={"description": "The mail server's answer, e.g. `550 5.1.1 No such user`."}
    )
    message_id = fields.String(dump_only=True, metadata={"description": "The refused message's Message-ID."})
    refused_at = fields.AwareDateTime(dump_only=True)
    cleared_at = fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "When it was cleared: null while no message is sent to it."},
    )
    cleared_by = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "Who cleared it: a person's id, or `accepted` when the mail server took a message for it."
        },
    )


class UndeliverableQueryArgs(PageArgs):
    address = fields.String(
        validate=validate.Length(min=1, max=320), metadata={"description": "One address, in any case."}
    )
    cleared = fields.Boolean(
        metadata={"description": "false: the addresses no message is sent to now; true: those cleared; none: both."}
    )


UndeliverableAddressPage = page_schema(UndeliverableAddressSchema, "UndeliverableAddressPage")


class DeliveryReportOutcomeSchema(Schema):
    message_id = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The `Message-ID` of the reported message, from the headers the report returns."},
    )
    status = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The report's status code for the address (RFC 3463), such as `5.1.1`."},
    )
    outcome = fields.String(
        dump_only=True,
        validate=validate.OneOf(("address_set_aside", "message_failed", "not_refused", "unknown_message")),
        metadata={
            "description": "`address_set_aside`: refused for good as an address (no such mailbox or domain, "
            "a disabled mailbox): the message failed and the address is set aside for its jurisdiction. "
            "`message_failed`: refused for another reason (its content, a policy, a forwarded address): the "
            "message failed. `not_refused`: a delay or a relay: nothing changed. `unknown_message`: not a "
            "message this service sent (or its record is gone): nothing changed."
        },
    )

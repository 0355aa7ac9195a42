"""Reports of messages refused after a mail server took them (RFC 3464), handed over by the mailbox that
receives them: the platform's sending address (``MAIL_FROM``). docs/notifications.md shows a mail server
piping each one here.

No one signs in: the reported message's ``Message-ID`` is the credential (``use_cases/delivery_reports.py``).
"""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from services.notifications.schemas.undeliverable import DeliveryReportOutcomeSchema
from services.notifications.use_cases import delivery_reports as use_cases
from shared.http.api import Blueprint, request_uow
from shared.http.problems import Problem

blp = Blueprint(
    "delivery_reports",
    __name__,
    url_prefix="/delivery-reports",
    description=(
        "Reports (RFC 3464) of e-mails a mail server took and later refused: the message fails, and an "
        "address refused for good is set aside as a refusal at RCPT TO would."
    ),
)

REPORT = "message/rfc822"


@blp.route("")
class DeliveryReports(MethodView):
    @blp.doc(
        security=[],
        summary="Hand over a report of a message refused after it was taken (its Message-ID is the credential).",
        requestBody={
            "required": True,
            "description": "The report as the mailbox received it: a multipart/report e-mail of report-type "
            "delivery-status, returning the refused message or its headers.",
            "content": {REPORT: {"schema": {"type": "string", "format": "binary"}}},
        },
    )
    @blp.response(200, DeliveryReportOutcomeSchema, description="Read: what became of the message and its address.")
    @blp.alt_response(413, description="Larger than the service takes.")
    @blp.alt_response(415, description="Not sent as message/rfc822.")
    @blp.alt_response(422, description="Not a delivery status notification (an out-of-office reply, say).")
    def post(self):
        """Fail the reported message; set its address aside when it was refused for good."""
        if request.mimetype != REPORT:
            raise Problem(
                415, f"Send the report as {REPORT}, as the mailbox received it.", title="Unsupported Media Type"
            )
        return use_cases.take_delivery_report(request.get_data(cache=False), request_uow())

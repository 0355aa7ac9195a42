"""Refusals that come back after a mail server took the message: the reports (RFC 3464) mail servers send
to the platform's sending address, handed over by its mailbox (``POST /delivery-reports``).

A report names the message by the ``Message-ID`` of the headers it returns, and that id is the
credential: random, and known only to the servers the message passed and to its reader.
"""

from __future__ import annotations

from services.notifications import metrics
from services.notifications import repository as repo
from services.notifications.domain.bounces import address_key, read_delivery_report
from services.notifications.use_cases.undeliverable import set_address_aside
from shared.db import utcnow
from shared.http.problems import Problem
from shared.logging import get_logger

log = get_logger(__name__)


def take_delivery_report(raw: bytes, uow) -> dict:
    """Fail the reported message and, when the refusal is about its address for good, set the address aside
    as a refusal at ``RCPT TO`` would; a delay, or a report of a message this service did not send, changes
    nothing. Return what was done."""
    report = read_delivery_report(raw)
    if report is None:
        raise Problem(
            422,
            "This is not a delivery status notification: a multipart/report e-mail of report-type "
            "delivery-status (RFC 3464), as received. Nothing was changed.",
            title="Not a delivery report",
        )
    answer = {"message_id": report.message_id, "status": None, "outcome": "unknown_message"}
    row = repo.email_by_message_id(uow.session, report.message_id) if report.message_id else None
    if row is None:
        metrics.DELIVERY_REPORTS.labels("unknown_message").inc()
        return answer  # another sender's message, or one whose row the retention removed
    final = [refusal for refusal in report.refusals if refusal.is_final]
    if not final:
        metrics.DELIVERY_REPORTS.labels("not_refused").inc()
        return {**answer, "outcome": "not_refused"}  # delayed, relayed or delivered: it may still arrive
    refusal = next((r for r in final if r.names(row.recipient)), final[0])
    answer = {**answer, "status": refusal.status, "outcome": "message_failed"}
    now = utcnow()
    # A refusal of an address the message was forwarded to says nothing of the address on record.
    if refusal.names(row.recipient) and refusal.refuses_the_address:
        answer["outcome"] = "address_set_aside"
        held = repo.undeliverable_address(uow.session, row.tenant, address_key(row.recipient))
        if held is None or held.cleared_at is not None:
            # Set aside once: the same report handed over twice (a mailbox's retry) changes nothing more.
            set_address_aside(uow.session, row.tenant, row.recipient, refusal.reply, row.message_id, now)
    if row.status == "sent":  # a message being sent again keeps its course; a failed one stays failed
        row.status = "failed"
        row.last_error = f"bounced after its mail server took it: {refusal.reply}"[:2000]
    uow.commit()
    metrics.DELIVERY_REPORTS.labels(answer["outcome"]).inc()
    log.warning("a mail server reported a message refused", tenant=row.tenant, outcome=answer["outcome"])
    return answer

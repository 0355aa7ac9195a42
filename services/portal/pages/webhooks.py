"""The notifications service's delivery log for the people who run a jurisdiction: webhooks for state systems,
kept by its admin (the endpoints that receive the platform's events, subscribing one with its signing secret
shown once, enabling one disabled after failing for days, sending again what it missed, the failed messages
retried one by one), and the messages sent to one address, which coordinators and admins look up when
someone says they never got their invitation.

Exists only while ``PORTAL_NOTIFICATIONS_URL`` names the notifications service; the service decides who may
(a jurisdiction admin; anyone else gets its 403).
"""

from __future__ import annotations

from datetime import date, datetime, time
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from services.portal import identity
from services.portal.backend import BackendError
from services.portal.pages import backend, token
from services.portal.pages.notifications import kind_label, with_notifications

blp = Blueprint("webhooks", __name__)
SHOWN = 100  # endpoints and failed messages a page lists; a jurisdiction has a handful of each

# The events an endpoint may receive, as an admin reads them, grouped as the form offers them. The
# notifications API's own list (its OpenAPI document) is the same: tests/portal/test_webhook_pages.py.
EVENT_GROUPS = (
    (
        "Training sessions",
        (
            ("scheduling.session.scheduled", "A session is scheduled"),
            ("scheduling.session.rescheduled", "A session is moved"),
            ("scheduling.session.cancelled", "A session is cancelled"),
        ),
    ),
    (
        "Registrations and completions",
        (
            ("scheduling.registration.confirmed", "A registration is confirmed"),
            ("scheduling.registration.waitlisted", "A registration is waitlisted"),
            ("scheduling.registration.promoted", "A registration moves up from the waitlist"),
            ("scheduling.registration.cancelled", "A registration is cancelled"),
            ("scheduling.participant.completed", "A participant completes a training (hours, certificate)"),
        ),
    ),
    (
        "Requests for the series",
        (
            ("scheduling.request.approved", "A request is approved"),
            ("scheduling.request.declined", "A request is declined"),
        ),
    ),
    (
        "Adaptations",
        (
            ("content.adaptation.submitted", "An adaptation is submitted for review"),
            ("content.adaptation.reviewed", "An adaptation is reviewed"),
        ),
    ),
    (
        "Coaching",
        (
            ("coaching.plan.created", "A trainer's implementation plan opens"),
            ("coaching.plan.specialist_assigned", "A trainer is given another specialist"),
            ("coaching.activity.logged", "A support activity is logged (never its notes)"),
            ("coaching.commitment.due_soon", "A commitment is due soon"),
            ("coaching.commitment.overdue", "A commitment is overdue"),
            ("coaching.commitment.fulfilled", "A commitment is fulfilled"),
            ("coaching.followup.due", "A follow-up is due"),
        ),
    ),
)
EVENT_LABELS = {event_type: label for _, events in EVENT_GROUPS for event_type, label in events}


def subscription_body(form) -> dict:
    """The API's body for the subscribe form; empty optional fields are left out."""
    body = {
        "url": form.get("url", "").strip(),
        "event_types": [t for t in form.getlist("event_types") if t],
        "description": form.get("description", "").strip(),
    }
    if form.get("contact_email", "").strip():
        body["contact_email"] = form["contact_email"].strip()
    return body


def since_instant(value: str, zone: str | None) -> str:
    """The start of the day an admin typed (``2027-02-01``), in their time zone, as the API takes it."""
    day = date.fromisoformat(value)
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone or "UTC")).isoformat()


def live(subscriptions: list[dict]) -> list[dict]:
    """The endpoints still subscribed: one stopped stays in the API's list as deleted (a sync sees it go)."""
    return [s for s in subscriptions if s["status"] != "deleted"]


def endpoint_state(subscription: dict) -> str:
    """``active``, ``failing`` (still tried) or ``disabled``: what the list's status column says."""
    if subscription["status"] == "disabled":
        return "disabled"
    return "failing" if subscription.get("failing_since") else "active"


MESSAGE_STATES = {
    "sent": "Sent",
    "pending": "Waiting to be sent",
    "sending": "Being sent",
    "held": "Held for the person's digest",
    "digested": "Sent in a digest",
    "failed": "Failed",
}


def message_label(message: dict) -> str:
    """A failed message as an admin reads it: an e-mail's kind, a webhook message's event."""
    if message["channel"] == "webhook":
        if message["template"] == "notifications.webhook.tested":
            return "A test message you asked for"
        return EVENT_LABELS.get(message["template"], message["template"])
    return kind_label(message["template"])


@blp.get("/webhooks")
@identity.signed_in
@with_notifications
def webhooks():
    return _render({}, None)


def _render(errors: dict, form, status: int = 200):
    """The endpoints and the failed messages: two reads at once."""
    listed, failed = backend().get_all(
        ("notifications", "/webhooks", {"token": token(), "params": {"limit": SHOWN}}),
        (
            "notifications",
            "/deliveries",
            # Those that can still be sent again: one whose content was deleted (after a month) can only be read.
            {"token": token(), "params": {"status": "failed", "content_kept": "true", "limit": SHOWN}},
        ),
    )
    endpoints = {s["id"]: s for s in listed["items"]}  # a failed message may be a stopped endpoint's
    return render_template(
        "webhooks.html",
        endpoints=live(listed["items"]),
        endpoint_of=endpoints,
        failed=failed["items"],
        more_failed=bool(failed.get("next_cursor")),
        groups=EVENT_GROUPS,
        labels=EVENT_LABELS,
        state=endpoint_state,
        message_label=message_label,
        form=form if form is not None else {},
        ticked=set(form.getlist("event_types")) if form is not None else set(),
        errors=errors,
    ), status


@blp.post("/webhooks")
@identity.signed_in
@with_notifications
def subscribe():
    """Subscribe an endpoint; its signing secret is shown on the answer's page, once, and never again."""
    try:
        created = backend().post("notifications", "/webhooks", token=token(), json=subscription_body(request.form))
    except BackendError as error:
        if error.status != 422:
            raise
        errors = {_field(name): text for name, text in error.field_errors.items()}
        return _render({**errors, "_form": error.message}, request.form, 422)
    return render_template("webhook_created.html", endpoint=created, labels=EVENT_LABELS)


def _field(name: str) -> str:
    # "event_types.0" (one refused type) is shown beside the event types' fieldset.
    return name.split(".", 1)[0]


@blp.post("/webhooks/<subscription_id>/enable")
@identity.signed_in
@with_notifications
def enable(subscription_id):
    """Enable again an endpoint disabled after failing for days; its address is checked again."""
    try:
        backend().post("notifications", f"/webhooks/{subscription_id}/enable", token=token())
    except BackendError as error:
        if error.status not in (409, 422):
            raise
        flash(f"Not enabled: {error.message}", "error")
        return redirect(url_for("webhooks.webhooks"))
    flash("Enabled: the endpoint receives new events again. Send again what it missed below, if it needs it.")
    return redirect(url_for("webhooks.webhooks"))


@blp.post("/webhooks/<subscription_id>/test")
@identity.signed_in
@with_notifications
def test(subscription_id):
    """Send a test message to an endpoint, for the state system's developers checking their verification."""
    try:
        backend().post("notifications", f"/webhooks/{subscription_id}/test", token=token())
    except BackendError as error:
        if error.status != 409:
            raise
        flash(f"Not sent: {error.message}", "error")
        return redirect(url_for("webhooks.webhooks"))
    flash(
        "A test message is on its way, signed as every message is and tried once. "
        "If the endpoint does not take it, it shows below under Failed messages with the endpoint's answer."
    )
    return redirect(url_for("webhooks.webhooks"))


@blp.post("/webhooks/<subscription_id>/redeliver")
@identity.signed_in
@with_notifications
def redeliver(subscription_id):
    """Send again every message of this endpoint since the start of a day (each with its own webhook-id)."""
    try:
        since = since_instant(request.form.get("since", ""), g.user.zone)
    except ValueError:
        flash("Not sent again: choose the day to send again from.", "error")
        return redirect(url_for("webhooks.webhooks"))
    answer = backend().post(
        "notifications", f"/webhooks/{subscription_id}/redeliver", token=token(), json={"since": since}
    )
    queued = answer["queued"]
    flash(f"{queued} message{'s' if queued != 1 else ''} will be sent again, each with its webhook-id as before.")
    return redirect(url_for("webhooks.webhooks"))


@blp.post("/webhooks/<subscription_id>/stop")
@identity.signed_in
@with_notifications
def stop(subscription_id):
    """Stop sending to an endpoint; the delivery log keeps what was sent."""
    backend().call("DELETE", "notifications", f"/webhooks/{subscription_id}", token=token())
    flash("Stopped: the endpoint receives nothing more. Its secret no longer signs anything.")
    return redirect(url_for("webhooks.webhooks"))


@blp.post("/failed-messages/<delivery_id>/retry")
@identity.signed_in
@with_notifications
def retry(delivery_id):
    """Send one failed message again now (an e-mail keeps its Message-ID, a webhook its webhook-id)."""
    backend().post("notifications", f"/deliveries/{delivery_id}/retry", token=token())
    flash("It will be sent again in a moment.")
    return redirect(url_for("webhooks.webhooks") + "#failed")


@blp.get("/messages")
@identity.signed_in
@with_notifications
def messages():
    """Coordinators and admins: every message the platform wrote to one address, and whether it is set aside
    (two reads at once); with no address asked, the addresses set aside (one read)."""
    address = request.args.get("address", "").strip()
    found, refused, errors = None, [], {}
    set_aside = {"token": token(), "params": {"cleared": "false", "limit": SHOWN}}
    if address:
        try:
            found, refused = backend().get_all(
                ("notifications", "/deliveries", {"token": token(), "params": {"recipient": address, "limit": SHOWN}}),
                (
                    "notifications",
                    "/undeliverable-addresses",
                    {**set_aside, "params": {"cleared": "false", "address": address}},
                ),
            )
        except BackendError as error:
            if error.status != 422:
                raise
            errors = {"address": " ".join(error.field_errors.values()) or error.message}
    else:
        refused = backend().get("notifications", "/undeliverable-addresses", **set_aside)
    return render_template(
        "messages.html",
        address=address,
        found=found["items"] if found else None,
        more=bool(found and found.get("next_cursor")),
        refused=refused["items"] if refused else [],
        more_refused=bool(refused and refused.get("next_cursor")),
        states=MESSAGE_STATES,
        message_label=message_label,
        errors=errors,
    ), (422 if errors else 200)


@blp.post("/messages/set-aside/<path:address>/clear")
@identity.signed_in
@with_notifications
def clear_address(address):
    """Send to an address set aside again: the person's record was mended, or their mailbox reopened."""
    backend().post("notifications", f"/undeliverable-addresses/{quote(address, safe='@')}/clear", token=token())
    flash(f"Messages to {address} will be sent again. If its mail server still refuses it, it is set aside again.")
    back = request.form.get("address", "")
    return redirect(url_for("webhooks.messages", **({"address": back} if back else {})))


@blp.post("/messages/<delivery_id>/send-again")
@identity.signed_in
@with_notifications
def send_again(delivery_id):
    """Send a failed message again now, under its Message-ID as before (its cause fixed: a full mailbox, a server that was down)."""
    address = request.form.get("address", "")
    backend().post("notifications", f"/deliveries/{delivery_id}/retry", token=token())
    flash("It will be sent again in a moment, as the same message.")
    return redirect(url_for("webhooks.messages", address=address))

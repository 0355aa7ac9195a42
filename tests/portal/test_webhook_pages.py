"""A jurisdiction admin's "Webhooks" page and the coordinators' "Messages sent" against the real notifications API
served over HTTP: subscribing an endpoint (its secret shown once), refusals beside the fields, enabling a disabled
endpoint, sending again what it missed, stopping it, the jurisdiction's failed messages sent again, and what was
sent to one address."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.portal.app import create_app
from services.portal.pages import webhooks as page
from shared.testing import ISSUER
from tests.conftest import config_overrides, migrated_context
from tests.portal.conftest import serious_violations, serving_over_http, signed_in_page
from tests.portal.test_pages import config, csrf_token, sign_in


@pytest.fixture
def notifications(database, broker, signing_key_file, tmp_path):
    """The notifications API over real HTTP, allowing local endpoints (as on-premises): (its URL, its context)."""
    from services.notifications.app import create_app as create_notifications_app
    from services.notifications.config import NotificationsConfig

    ctx = migrated_context(
        "notifications", NotificationsConfig, config_overrides(database, broker, signing_key_file, tmp_path)
    )
    ctx = dataclasses.replace(ctx, config=dataclasses.replace(ctx.config, webhook_allow_private=True))
    with serving_over_http(create_notifications_app(ctx)) as url:
        yield url, ctx
    ctx.db.dispose()


def _portal(url, signing_key_file, tmp_path, role):
    client = create_app(
        config(tmp_path, notifications_url=url, jwt_dev_private_key_file=signing_key_file, jwt_issuer=ISSUER)
    ).test_client()
    sign_in(client, role=role, tenant="CA")
    return client


@pytest.fixture
def admin(notifications, signing_key_file, tmp_path):
    return _portal(notifications[0], signing_key_file, tmp_path, "jurisdiction_admin")


def failed_message(ctx, *, tenant="CA", channel="email", **fields) -> str:
    """A message of the delivery log that failed after every retry (an e-mail unless said); returns its id."""
    from services.notifications.models import Delivery

    values = {
        "event_id": str(uuid.uuid4()),
        "event_type": "scheduling.registration.confirmed",
        "recipient": "ana@example.org",
        "person": "ana",
        "template": "registration_confirmed",
        "message_id": f"<{uuid.uuid4()}@t4t.localhost>",
        "language": "en",
        "subject": "You are registered",
        "text_body": "",
        "html_body": "",
        "attempts": 5,
        "last_error": "550 mailbox unavailable",
        **fields,
    }
    with ctx.db.unit_of_work() as uow:
        row = Delivery(tenant=tenant, channel=channel, status="failed", **values)
        uow.session.add(row)
        uow.commit()
        return row.id


def _subscribe(client, **fields):
    form = {
        "url": "http://127.0.0.1:9/t4t/events",
        "description": "Workforce registry",
        "contact_email": "it@ca.example.gov",
        "event_types": ["scheduling.participant.completed", "coaching.activity.logged"],
    }
    form.update(fields, csrf_token=csrf_token(client))
    return client.post("/webhooks", data=form)


def test_the_forms_events_are_exactly_those_the_api_takes():
    from services.notifications.schemas.webhooks import WEBHOOK_EVENT_TYPES

    assert sorted(page.EVENT_LABELS) == sorted(WEBHOOK_EVENT_TYPES)


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_an_admin_subscribes_an_endpoint_and_sees_its_secret_once(admin, notifications, database):
    empty = admin.get("/webhooks")
    assert empty.status_code == 200 and empty.headers["X-API-Calls"] == "2"
    assert "No endpoint receives your jurisdiction's events yet." in empty.get_data(as_text=True)
    assert 'href="/webhooks">Webhooks</a>' in empty.get_data(as_text=True)  # in the menu

    created = _subscribe(admin)
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"  # the secret is kept nowhere
    secret = re.search(r'<code class="secret" id="secret">(whsec_[^<]+)</code>', html).group(1)
    assert "A participant completes a training (hours, certificate)" in html
    with notifications[1].db.session() as db:
        from services.notifications.models import WebhookSubscription

        [row] = db.query(WebhookSubscription).all()
        assert (row.tenant, row.url, row.secret) == ("CA", "http://127.0.0.1:9/t4t/events", secret)
        assert sorted(row.event_types) == ["coaching.activity.logged", "scheduling.participant.completed"]

    listed = admin.get("/webhooks").get_data(as_text=True)
    assert "http://127.0.0.1:9/t4t/events" in listed and "Workforce registry" in listed
    assert "2 kinds of event" in listed and "A support activity is logged (never its notes)" in listed
    assert secret not in listed  # shown once, never again
    assert '<span class="endpoint-status active">Active</span>' in listed


def test_refusals_are_shown_beside_their_fields_and_the_form_keeps_what_was_typed(admin, notifications):
    refused = _subscribe(admin, url="not an address", event_types=[])
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="url-error"' in html and 'id="event_types-error"' in html
    assert 'value="Workforce registry"' in html  # what was typed stays
    unknown = _subscribe(admin, event_types=["content.thread.replied"])  # not one an endpoint may receive
    assert unknown.status_code == 422 and 'id="event_types-error"' in unknown.get_data(as_text=True)
    with notifications[1].db.session() as db:
        from services.notifications.models import WebhookSubscription

        assert db.query(WebhookSubscription).count() == 0


def test_a_disabled_endpoint_is_enabled_sent_what_it_missed_and_stopped(admin, notifications):
    from services.notifications.models import WebhookSubscription

    _subscribe(admin)
    ctx = notifications[1]
    week_ago = datetime.now(UTC) - timedelta(days=7)
    with ctx.db.unit_of_work() as uow:
        row = uow.session.query(WebhookSubscription).one()
        row.status, row.failing_since, row.disabled_at = "disabled", week_ago, week_ago + timedelta(days=5)
        uow.commit()
        endpoint = row.id
    for n in range(3):
        failed_message(
            ctx,
            channel="webhook",
            event_type="coaching.activity.logged",
            template="coaching.activity.logged",
            recipient=endpoint,
            person=None,
            message_id=f"msg_{n}",
            language="",
            subject="coaching.activity.logged",
            attempts=8,
            last_error="connection refused",
            created_at=week_ago + timedelta(days=n),
        )

    listed = admin.get("/webhooks").get_data(as_text=True)
    assert '<span class="endpoint-status disabled">Disabled</span>' in listed
    assert "Send a test message<span" not in listed  # enable it first: its address is checked again
    assert listed.count("connection refused") == 3 and "http://127.0.0.1:9/t4t/events" in listed

    enabled = admin.post(f"/webhooks/{endpoint}/enable", data={"csrf_token": csrf_token(admin)})
    assert enabled.status_code == 302
    after = admin.get("/webhooks").get_data(as_text=True)
    assert "Enabled: the endpoint receives new events again." in after
    assert '<span class="endpoint-status active">Active</span>' in after

    since = (week_ago + timedelta(days=1)).date().isoformat()
    admin.post(f"/webhooks/{endpoint}/redeliver", data={"since": since, "csrf_token": csrf_token(admin)})
    assert "2 messages will be sent again" in admin.get("/webhooks").get_data(as_text=True)
    admin.post(f"/webhooks/{endpoint}/redeliver", data={"since": "", "csrf_token": csrf_token(admin)})
    assert "Not sent again: choose the day" in admin.get("/webhooks").get_data(as_text=True)

    admin.post(f"/webhooks/{endpoint}/stop", data={"csrf_token": csrf_token(admin)})
    stopped = admin.get("/webhooks").get_data(as_text=True)
    assert "Stopped: the endpoint receives nothing more." in stopped
    assert "No endpoint receives your jurisdiction's events yet." in stopped


def test_a_failed_email_is_sent_again_from_the_page(admin, notifications):
    from services.notifications.models import Delivery

    failed_id = failed_message(notifications[1])
    failed_message(notifications[1], tenant="TX", recipient="bo@example.org", person="bo", last_error="550 texas")
    month_ago = datetime.now(UTC) - timedelta(days=1)
    failed_message(notifications[1], recipient="old@example.org", content_deleted_at=month_ago, text_body="")

    listed = admin.get("/webhooks").get_data(as_text=True)
    assert "Registration confirmed" in listed and "ana@example.org" in listed and "550 mailbox unavailable" in listed
    assert "550 texas" not in listed  # another jurisdiction's
    assert "old@example.org" not in listed  # its content was deleted: it can no longer be sent again
    answer = admin.post(f"/failed-messages/{failed_id}/retry", data={"csrf_token": csrf_token(admin)})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/webhooks#failed")
    after = admin.get("/webhooks").get_data(as_text=True)
    assert "It will be sent again in a moment." in after
    assert "None: every message was delivered or is still being tried." in after
    with notifications[1].db.session() as db:
        assert db.get(Delivery, failed_id).status == "pending"


def test_an_admin_sends_a_test_message_to_an_endpoint_and_sees_it_if_it_fails(admin, notifications):
    from services.notifications.models import Delivery, WebhookSubscription

    _subscribe(admin)
    ctx = notifications[1]
    with ctx.db.session() as db:
        endpoint = db.query(WebhookSubscription).one().id
    assert "Send a test message<span" in admin.get("/webhooks").get_data(as_text=True)
    answer = admin.post(f"/webhooks/{endpoint}/test", data={"csrf_token": csrf_token(admin)})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/webhooks")
    assert "A test message is on its way" in admin.get("/webhooks").get_data(as_text=True)
    with ctx.db.unit_of_work() as uow:
        [message] = uow.session.query(Delivery).filter(Delivery.template == "notifications.webhook.tested").all()
        assert (message.recipient, message.status) == (endpoint, "pending")
        message.status, message.last_error, message.response_status = "failed", "HTTP 500", 500
        uow.commit()
    failed = admin.get("/webhooks").get_data(as_text=True)
    assert "A test message you asked for" in failed and "(HTTP 500)" in failed


def test_only_jurisdiction_admins_see_the_page(notifications, signing_key_file, tmp_path):
    participant = _portal(notifications[0], signing_key_file, tmp_path, "participant")
    assert 'href="/webhooks"' not in participant.get("/my/notifications").get_data(as_text=True)
    assert participant.get("/webhooks").status_code == 403


def test_the_day_to_send_again_from_starts_in_the_admins_time_zone():
    assert page.since_instant("2027-02-01", "America/Los_Angeles") == "2027-02-01T00:00:00-08:00"
    assert page.since_instant("2027-02-01", None) == "2027-02-01T00:00:00+00:00"
    with pytest.raises(ValueError):
        page.since_instant("", None)


def test_in_a_browser_an_admin_subscribes_an_endpoint_with_no_accessibility_violation(
    notifications, signing_key_file, tmp_path, browser, screenshots
):

    app = create_app(
        config(
            tmp_path, notifications_url=notifications[0], jwt_dev_private_key_file=signing_key_file, jwt_issuer=ISSUER
        )
    )

    def checked(page_, viewport) -> None:
        assert serious_violations(page_) == []
        assert page_.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scroll

    with serving_over_http(app) as base_url:
        for n, viewport in enumerate(({"width": 1280, "height": 900}, {"width": 390, "height": 844})):
            context, page_ = signed_in_page(browser, base_url, viewport, "Alex Admin")
            page_.get_by_role("link", name="Webhooks").click()
            checked(page_, viewport)
            page_.get_by_label("Address (URL)").fill(f"http://127.0.0.1:9/registry-{n}")
            page_.get_by_label("What it is").fill("Workforce registry")
            page_.get_by_label("Who to tell if it fails for days").fill("it@ca.example.gov")
            with page_.expect_navigation():
                page_.get_by_role("button", name="Subscribe").click()  # no event chosen: told beside the events
            assert page_.locator("#event_types-error").is_visible()
            checked(page_, viewport)
            page_.get_by_label("A participant completes a training (hours, certificate)").check()
            page_.get_by_label("A commitment is fulfilled").check()
            with page_.expect_navigation():
                page_.get_by_role("button", name="Subscribe").click()
            assert page_.locator("#secret").inner_text().startswith("whsec_")
            checked(page_, viewport)
            page_.screenshot(path=str(screenshots / f"webhook-created-{viewport['width']}.png"), full_page=True)
            failed_message(
                notifications[1],
                event_type="scheduling.participant.completed",
                template="training_completed",
                subject="You completed",
            )
            page_.get_by_role("link", name="Webhooks for state systems").click()
            checked(page_, viewport)
            # On a wide screen every table's cells sit under their column's heading.
            if viewport["width"] > 600:
                misaligned = page_.evaluate(
                    """[...document.querySelectorAll('table')].filter(t => {
                        const head = t.querySelector('thead th'), cell = t.querySelector('tbody tr > *');
                        return head && cell && Math.abs(head.getBoundingClientRect().left
                            - cell.getBoundingClientRect().left) > 1; }).length"""
                )
                assert misaligned == 0
            page_.screenshot(path=str(screenshots / f"webhooks-{viewport['width']}.png"), full_page=True)
            with page_.expect_navigation():
                page_.get_by_role("button", name="Send again Training completed to ana@example.org").click()
            assert "It will be sent again in a moment." in page_.content()
            # What was sent to Ana, as support looks it up.
            page_.get_by_role("link", name="Messages sent").click()
            page_.get_by_label("E-mail address").fill("ANA@example.org")
            with page_.expect_navigation():
                page_.get_by_role("button", name="Find").click()
            assert page_.get_by_role("table", name="Messages to ANA@example.org, oldest first").is_visible()
            checked(page_, viewport)
            page_.screenshot(path=str(screenshots / f"messages-{viewport['width']}.png"), full_page=True)
            context.close()


def test_a_coordinator_finds_what_was_sent_to_an_address_and_sends_a_failed_one_again(
    notifications, signing_key_file, tmp_path
):
    from services.notifications.models import Delivery

    ctx = notifications[1]
    sent = failed_message(ctx, recipient="Ana.Lopez@example.org", subject="You're registered", last_error=None)
    with ctx.db.unit_of_work() as uow:
        row = uow.session.get(Delivery, sent)
        row.status, row.sent_at = "sent", datetime.now(UTC)
        uow.commit()
    failed = failed_message(ctx, recipient="ana.lopez@example.org", subject="You're invited: Session 1")
    failed_message(ctx, tenant="TX", recipient="ana.lopez@example.org", subject="Texas's")
    coordinator = _portal(notifications[0], signing_key_file, tmp_path, "agency_coordinator")

    page_ = coordinator.get("/messages", query_string={"address": "ANA.LOPEZ@example.org"})
    html = page_.get_data(as_text=True)
    assert page_.status_code == 200 and page_.headers["X-API-Calls"] == "2"  # its messages, and if it is set aside
    assert 'href="/messages">Messages sent</a>' in html  # in the menu
    assert "No message is sent to" not in html
    assert "You&#39;re registered" in html and "You&#39;re invited: Session 1" in html and "Texas" not in html
    assert html.count('<span class="message-state sent">Sent</span>') == 1
    assert "550 mailbox unavailable after 5 attempts" in html
    assert html.count("Send again<span") == 1  # a failed message only: a sent e-mail keeps its one Message-ID

    again = coordinator.post(
        f"/messages/{failed}/send-again",
        data={"address": "ana.lopez@example.org", "csrf_token": csrf_token(coordinator)},
    )
    assert again.status_code == 302 and again.headers["Location"].endswith("/messages?address=ana.lopez@example.org")
    with ctx.db.session() as db:
        assert db.get(Delivery, failed).status == "pending"

    old = failed_message(
        ctx, recipient="old@example.org", subject="Reminder", content_deleted_at=datetime(2026, 11, 2, 12, tzinfo=UTC)
    )
    gone = coordinator.get("/messages?address=old@example.org").get_data(as_text=True)
    assert "Its content was deleted on " in gone and "it can no longer be sent again" in gone
    assert "Send again<span" not in gone and old not in gone  # no button, so no form naming it

    nothing = coordinator.get("/messages?address=nobody@example.org").get_data(as_text=True)
    assert "Nothing was written to nobody@example.org in your jurisdiction." in nothing
    assert "Messages to" not in coordinator.get("/messages").get_data(as_text=True)  # no address asked yet


def set_aside(ctx, address: str, *, tenant="CA", reply="550 5.1.1 User unknown", cleared=False) -> None:
    """An address its mail server refused for good, as the sender records it."""
    from services.notifications.models import UndeliverableAddress

    now = datetime.now(UTC)
    with ctx.db.unit_of_work() as uow:
        uow.session.add(
            UndeliverableAddress(
                tenant=tenant,
                address_key=address.lower(),
                address=address,
                reply=reply,
                message_id=f"<{uuid.uuid4()}@t4t.localhost>",
                refused_at=now - timedelta(days=1),
                cleared_at=now if cleared else None,
            )
        )
        uow.commit()


def test_a_coordinator_sees_the_addresses_set_aside_whose_they_are_and_sends_to_one_again(
    notifications, signing_key_file, tmp_path
):
    from tests.notifications.conftest import add_contact

    ctx = notifications[1]
    add_contact(ctx, "ana", "ana@exmaple.org", name="Ana López")
    add_contact(ctx, "ana-2", "Ana@Exmaple.org")  # no name known: shown by id
    add_contact(ctx, "ben", "ben@example.org", supervisor="ana@exmaple.org", name="Ben Ortiz")
    set_aside(ctx, "ana@exmaple.org", reply="550 5.1.1 <ana@exmaple.org>: User unknown")
    set_aside(ctx, "old@example.org", cleared=True)
    set_aside(ctx, "tx@example.org", tenant="TX")
    failed_message(ctx, recipient="ana@exmaple.org", subject="You're invited: Session 1")
    coordinator = _portal(notifications[0], signing_key_file, tmp_path, "agency_coordinator")

    listed = coordinator.get("/messages")
    html = listed.get_data(as_text=True)
    assert listed.status_code == 200 and listed.headers["X-API-Calls"] == "1"
    assert "Addresses that refuse every message" in html
    assert '<a href="/messages?address=ana@exmaple.org">ana@exmaple.org</a>' in html
    assert (
        "Ana López (ana), ana-2; the supervisor of Ben Ortiz (ben)" in html
        and "550 5.1.1 &lt;ana@exmaple.org&gt;: User unknown" in html
    )
    assert "old@example.org" not in html and "tx@example.org" not in html  # cleared; another jurisdiction's
    assert html.count("Send to it again<span") == 1

    one = coordinator.get("/messages?address=ANA@exmaple.org").get_data(as_text=True)
    assert (
        "No message is sent to ana@exmaple.org" in one
        and "Mend the e-mail of Ana López (ana), ana-2; the supervisor of Ben Ortiz (ben) in" in one
    )
    assert "Addresses that refuse every message" not in one
    cleared = coordinator.post(
        "/messages/set-aside/ana@exmaple.org/clear",
        data={"address": "ANA@exmaple.org", "csrf_token": csrf_token(coordinator)},
    )
    assert cleared.status_code == 302 and cleared.headers["Location"].endswith("/messages?address=ANA@exmaple.org")
    after = coordinator.get("/messages?address=ANA@exmaple.org").get_data(as_text=True)
    assert "Messages to ana@exmaple.org will be sent again." in after and "No message is sent to" not in after
    assert "None: every address in your jurisdiction takes our messages" in coordinator.get("/messages").get_data(
        as_text=True
    )
    texas = coordinator.post("/messages/set-aside/tx@example.org/clear", data={"csrf_token": csrf_token(coordinator)})
    assert texas.status_code == 404


def test_only_those_who_run_trainings_look_up_messages(notifications, signing_key_file, tmp_path):
    participant = _portal(notifications[0], signing_key_file, tmp_path, "participant")
    assert 'href="/messages"' not in participant.get("/my/notifications").get_data(as_text=True)
    assert participant.get("/messages?address=ben@example.org").status_code == 403

"""A person's "My e-mails" page against the real notifications API served over HTTP: their address, their choices
kind by kind, the API's refusals beside the fields, and the page hidden while the portal does not know the service."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from services.portal.app import create_app
from services.portal.pages import notifications as page
from shared.testing import ISSUER
from tests.conftest import config_overrides, migrated_context
from tests.portal.conftest import serious_violations, serving_over_http, signed_in_page
from tests.portal.test_pages import config, csrf_token, sign_in

PERSON = "dev-participant-ca"  # the development sign-in's participant of California


@pytest.fixture
def notifications_api(database, broker, signing_key_file, tmp_path):
    """The notifications API on a migrated database, served over real HTTP on a free port."""
    from services.notifications.app import create_app as create_notifications_app
    from services.notifications.config import NotificationsConfig

    ctx = migrated_context(
        "notifications", NotificationsConfig, config_overrides(database, broker, signing_key_file, tmp_path)
    )
    with serving_over_http(create_notifications_app(ctx)) as url:
        yield url
    ctx.db.dispose()


@pytest.fixture
def person(notifications_api, signing_key_file, tmp_path):
    """A signed-in participant of California whose tokens the notifications API trusts."""
    client = create_app(
        config(
            tmp_path, notifications_url=notifications_api, jwt_dev_private_key_file=signing_key_file, jwt_issuer=ISSUER
        )
    ).test_client()
    sign_in(client, role="participant", tenant="CA")
    return client


def _save_address(client, **fields):
    form = {"email": "ana@example.org", "time_zone": "America/Los_Angeles", "language": "es", "csrf_token": ""}
    form.update(fields, csrf_token=csrf_token(client))
    return client.post("/my/notifications/contact", data=form)


def _selected(html: str, kind: str) -> str:
    select = re.search(rf'<select id="choice-{kind}".*?</select>', html, re.S).group(0)
    return re.search(r'<option value="([^"]+)"\s+selected', select).group(1)


def test_a_person_the_service_does_not_know_sees_an_empty_address_form_and_no_choices_yet(person):
    page_ = person.get("/my/notifications")
    html = page_.get_data(as_text=True)
    assert page_.status_code == 200
    assert "We have no address for you yet" in html and "Save your address first" in html
    assert 'id="choice-' not in html
    assert page_.headers["X-API-Calls"] == "4"  # three reads at once, then the kinds alone after the 404


def test_saving_an_address_then_choosing_a_digest_and_turning_a_kind_off_reaches_the_service(person):
    answer = _save_address(person)
    assert answer.status_code == 302
    page_ = person.get("/my/notifications")
    html = page_.get_data(as_text=True)
    assert page_.headers["X-API-Calls"] == "3"
    assert 'value="ana@example.org"' in html
    assert re.search(r'<option value="es"\s+selected>Español', html)
    assert _selected(html, "thread_replied") == page.DEFAULT
    # A kind that carries an invite offers no digest: the calendar must update at once.
    invite_row = re.search(r'<select id="choice-registration_confirmed".*?</select>', html, re.S).group(0)
    assert "hourly" not in invite_row and "daily" not in invite_row

    form = MultiDict([("csrf_token", csrf_token(person))])
    for kind in re.findall(r'name="was-([a-z_]+)" value="default"', html):
        form.add(f"was-{kind}", page.DEFAULT)
        form.add(f"choice-{kind}", page.DEFAULT)
    form.setlist("choice-thread_replied", ["daily"])
    form.setlist("choice-request_approved", ["off"])
    answer = person.post("/my/notifications/choices", data=form)
    assert answer.status_code == 302
    html = person.get("/my/notifications").get_data(as_text=True)
    assert "Saved 2 choices." in html
    assert _selected(html, "thread_replied") == "daily"
    assert _selected(html, "request_approved") == "off"
    assert _selected(html, "session_reminder") == page.DEFAULT


def test_a_person_saving_their_address_keeps_the_name_their_e_mails_greet_them_by(person, notifications_api):
    """The API replaces the whole record: before, saving one's address forgot the name a registration gave."""
    html = person.get("/my/notifications").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="name"[^>]*value="Casey"', html)  # the name signed in with, offered
    assert _save_address(person, name="Ana López").status_code == 302
    html = person.get("/my/notifications").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="name"[^>]*value="Ana López"', html)
    # Saved again without touching the name (the form shows it): it is kept.
    form = {"name": "Ana López", "email": "ana.lopez@example.org", "language": "es"}
    assert _save_address(person, **form).status_code == 302
    held = person.get("/my/notifications").get_data(as_text=True)
    assert 'value="ana.lopez@example.org"' in held and re.search(r'id="name"[^>]*value="Ana López"', held)
    # Cleared on purpose, it is forgotten; the sign-in name is offered again.
    assert _save_address(person, name="  ").status_code == 302
    assert re.search(r'<input[^>]*id="name"[^>]*value="Casey"', person.get("/my/notifications").get_data(as_text=True))


def test_the_services_refusal_of_an_address_shows_beside_its_field_and_saves_nothing(person):
    answer = _save_address(person, email="not an address", time_zone="")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="email-error"' in html and 'aria-invalid="true"' in html
    assert "We have no address for you yet" in html  # nothing was written


def test_a_digest_of_a_kind_that_carries_an_invite_is_refused_beside_that_kind_alone(person):
    _save_address(person)
    form = {
        "was-registration_confirmed": page.DEFAULT,
        "choice-registration_confirmed": "daily",  # a hand-made form: the page does not offer it
        "was-thread_replied": page.DEFAULT,
        "choice-thread_replied": "hourly",
        "csrf_token": csrf_token(person),
    }
    answer = person.post("/my/notifications/choices", data=form)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="choice-registration_confirmed-error"' in html and "1 saved" in html
    assert 'id="choice-thread_replied-error"' not in html
    assert _selected(person.get("/my/notifications").get_data(as_text=True), "thread_replied") == "hourly"


def test_the_page_and_its_link_do_not_exist_while_the_portal_does_not_know_the_service(tmp_path):
    client = create_app(config(tmp_path)).test_client()
    sign_in(client, role="participant", tenant="CA")
    assert client.get("/my/notifications").status_code == 404
    assert "My e-mails" not in client.get("/verify").get_data(as_text=True)


@pytest.mark.parametrize(
    ("choice", "body"),
    [
        ("email", {"channel": "email", "enabled": True, "digest": "none"}),
        ("daily", {"channel": "email", "enabled": True, "digest": "daily"}),
        ("off", {"channel": "email", "enabled": False, "digest": "none"}),
    ],
)
def test_each_choice_becomes_the_apis_preference(choice, body):
    assert page.preference_body(choice) == body


def test_the_page_shows_what_the_service_holds_an_enabled_digest_as_the_digest():
    held = [
        {"kind": "thread_replied", "channel": "email", "enabled": True, "digest": "daily"},
        {"kind": "request_approved", "channel": "email", "enabled": False, "digest": "daily"},
        {"kind": "followup_due", "channel": "email", "enabled": True, "digest": "none"},
    ]
    assert page.current_choices(held) == {"thread_replied": "daily", "request_approved": "off", "followup_due": "email"}


def test_a_person_sees_first_the_messages_of_their_roles_and_the_others_apart():
    kinds = [{"kind": k} for k in ("registration_confirmed", "followup_due", "thread_replied", "request_approved")]
    names = lambda listed: [k["kind"] for k in listed]  # noqa: E731
    yours, others = page.kinds_for(kinds, ("participant",), {})
    assert names(yours) == ["registration_confirmed", "thread_replied"]  # a community's kinds are everyone's
    assert names(others) == ["followup_due", "request_approved"]
    yours, others = page.kinds_for(kinds, ("coach",), {"request_approved": "off"})  # a choice made stays in view
    assert names(yours) == ["followup_due", "thread_replied", "request_approved"]
    assert names(others) == ["registration_confirmed"]
    # Every kind the service sends is placed: a new kind missing from the table would be everyone's, not lost.
    from services.notifications.domain.kinds import TEMPLATES

    assert set(page.KIND_ROLES) <= set(TEMPLATES)


def test_the_page_puts_other_roles_messages_in_a_closed_section(person):
    _save_address(person)
    html = person.get("/my/notifications").get_data(as_text=True)
    mine, _, others = html.partition('<details class="other-kinds">')
    assert 'id="choice-registration_confirmed"' in mine and 'id="choice-thread_replied"' in mine
    assert 'id="choice-followup_due"' in others and 'id="choice-followup_due"' not in mine
    assert "Messages for other roles (" in others


def test_in_a_browser_a_participant_saves_an_address_and_a_digest_with_no_accessibility_violation(
    notifications_api, signing_key_file, tmp_path, browser, screenshots
):
    app = create_app(
        config(
            tmp_path, notifications_url=notifications_api, jwt_dev_private_key_file=signing_key_file, jwt_issuer=ISSUER
        )
    )
    with serving_over_http(app) as base_url:
        for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
            context, page_ = signed_in_page(browser, base_url, viewport, "Ana López")
            page_.get_by_role("link", name="My e-mails").click()
            assert serious_violations(page_) == []
            page_.get_by_label("E-mail address").fill("ana@example.org")
            page_.get_by_label("Language").select_option("es")
            with page_.expect_navigation():
                page_.get_by_role("button", name="Save my address").click()
            page_.get_by_label("Thread replied").select_option("daily")
            with page_.expect_navigation():
                page_.get_by_role("button", name="Save my choices").click()
            assert serious_violations(page_) == []
            assert page_.get_by_label("Thread replied").input_value() == "daily"
            assert page_.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scroll
            page_.screenshot(path=str(screenshots / f"my-notifications-{viewport['width']}.png"), full_page=True)
            context.close()

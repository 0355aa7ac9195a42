"""A jurisdiction admin's defaults for its people's e-mails, kind by kind, against the real notifications API over
HTTP: what the page shows before anything is set, the kinds changed sent and no other, and who may."""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from services.portal.app import create_app
from services.portal.pages import notifications as page
from shared.testing import ISSUER
from tests.portal.conftest import serious_violations, serving_over_http, signed_in_page
from tests.portal.test_pages import config, csrf_token
from tests.portal.test_webhook_pages import _portal, notifications  # noqa: F401 (fixture)


def _row(html: str, kind: str) -> str:
    return re.search(rf'<input type="hidden" name="was-{kind}".*?</tr>', html, re.S).group(0)


def test_rows_show_the_api_defaults_and_only_changed_kinds_are_sent():
    kinds = [{"kind": "registration_confirmed"}, {"kind": "thread_replied"}, {"kind": "followup_due"}]
    rows = page.jurisdiction_rows(kinds, [{"kind": "thread_replied", "email": False, "copy_supervisor": True}])
    assert [(r["kind"], r["email"], r["copy_supervisor"]) for r in rows] == [
        ("registration_confirmed", True, False),  # nothing set: by e-mail, no copy
        ("thread_replied", False, True),
        ("followup_due", True, False),
    ]
    form = MultiDict(
        [
            ("was-registration_confirmed", "email,nocopy"),
            ("email-registration_confirmed", "yes"),
            ("copy-registration_confirmed", "yes"),  # copy ticked
            ("was-thread_replied", "off,copy"),
            ("copy-thread_replied", "yes"),  # unchanged
            ("was-followup_due", "email,nocopy"),  # e-mail unticked: absent from the form
        ]
    )
    assert page.changed_defaults(form) == {
        "registration_confirmed": {"email": True, "copy_supervisor": True},
        "followup_due": {"email": False, "copy_supervisor": False},
    }


def test_an_admin_turns_a_kind_off_and_asks_for_supervisor_copies(notifications, signing_key_file, tmp_path):  # noqa: F811
    url, ctx = notifications
    admin = _portal(url, signing_key_file, tmp_path, "jurisdiction_admin")
    shown = admin.get("/jurisdiction/e-mails")
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and shown.headers["X-API-Calls"] == "2"
    assert 'name="email-thread_replied" value="yes" checked' in _row(html, "thread_replied")
    assert 'name="copy-thread_replied" value="yes" checked' not in _row(html, "thread_replied")
    assert "Always sent when it comes within 48 hours of the session" in html  # the critical kinds say so

    form = MultiDict({"csrf_token": csrf_token(admin)})
    for match in re.finditer(r'name="was-([a-z_]+)" value="([^"]+)"', html):
        kind, was = match.groups()
        form[f"was-{kind}"] = was
        if kind != "thread_replied":
            form[f"email-{kind}"] = "yes"  # as shown: ticked
        if kind == "session_cancelled":
            form[f"copy-{kind}"] = "yes"
    saved = admin.post("/jurisdiction/e-mails", data=form)
    assert saved.status_code == 302
    after = admin.get("/jurisdiction/e-mails").get_data(as_text=True)
    assert "Saved 2 defaults." in after
    assert 'name="email-thread_replied" value="yes" checked' not in _row(after, "thread_replied")
    assert 'name="copy-session_cancelled" value="yes" checked' in _row(after, "session_cancelled")

    from services.notifications.models import JurisdictionPreference

    with ctx.db.session() as db:
        rows = {(r.tenant, r.kind): (r.email, r.copy_supervisor) for r in db.query(JurisdictionPreference)}
    assert rows == {("CA", "thread_replied"): (False, False), ("CA", "session_cancelled"): (True, True)}


def test_the_admins_are_led_there_and_others_are_refused(notifications, signing_key_file, tmp_path):  # noqa: F811
    admin = _portal(notifications[0], signing_key_file, tmp_path, "jurisdiction_admin")
    assert 'href="/jurisdiction/e-mails"' in admin.get("/my/notifications").get_data(as_text=True)
    assert 'href="/jurisdiction/e-mails"' in admin.get("/webhooks").get_data(as_text=True)
    participant = _portal(notifications[0], signing_key_file, tmp_path, "participant")
    assert 'href="/jurisdiction/e-mails"' not in participant.get("/my/notifications").get_data(as_text=True)
    refused = participant.get("/jurisdiction/e-mails")
    assert refused.status_code == 403 and "Only your jurisdiction" in refused.get_data(as_text=True)
    form = {"was-thread_replied": "email,nocopy", "csrf_token": csrf_token(participant)}
    assert participant.post("/jurisdiction/e-mails", data=form).status_code == 403


def test_in_a_browser_an_admin_turns_a_kind_off_with_no_accessibility_violation(
    notifications,  # noqa: F811
    signing_key_file,
    tmp_path,
    browser,
    screenshots,
):
    app = create_app(
        config(
            tmp_path, notifications_url=notifications[0], jwt_dev_private_key_file=signing_key_file, jwt_issuer=ISSUER
        )
    )
    with serving_over_http(app) as base_url:
        for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
            context, page_ = signed_in_page(browser, base_url, viewport, "Alex Admin")
            page_.get_by_role("link", name="Webhooks").click()
            page_.get_by_role("link", name="your jurisdiction's e-mails").click()
            box = page_.get_by_label("Thread replied: sent by e-mail")
            box.set_checked(not box.is_checked())  # the second round turns it back on
            with page_.expect_navigation():
                page_.get_by_role("button", name="Save the defaults").click()
            assert "Saved 1 default." in page_.content()
            assert serious_violations(page_) == []
            assert page_.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scroll
            page_.screenshot(path=str(screenshots / f"jurisdiction-emails-{viewport['width']}.png"), full_page=True)
            context.close()

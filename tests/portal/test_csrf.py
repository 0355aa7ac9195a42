"""Forged requests: every form that changes something needs the session's token, and a post without it
is a plain 400 page that changed nothing, whether it comes from a test client or from another site's
page in a real browser (same-site, so ``SameSite=Lax`` alone would have let the cookie through)."""

from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from services.portal.app import create_app
from tests.portal.test_pages import config, csrf_token, sign_in


def session_of(app, client) -> dict:
    cookie = client.get_cookie("session")
    return app.session_interface.get_signing_serializer(app).loads(cookie.value) if cookie else {}


@pytest.fixture
def app(tmp_path):
    return create_app(config(tmp_path))


@pytest.mark.parametrize(
    "sent",
    [None, "", "not-the-token", "é" * 43, "x" * 5000],
    ids=["missing", "empty", "wrong", "non-ascii", "long"],
)
def test_a_form_without_the_sessions_token_gets_a_plain_400_and_changes_nothing(app, sent):
    client = app.test_client()
    sign_in(client, role="participant")
    form = {"zone": "Pacific/Guam", "next": "/my/training"}
    if sent is not None:
        form["csrf_token"] = sent
    answer = client.post("/my/zone", data=form, headers={"Origin": "http://evil.example"})
    assert answer.status_code == 400 and answer.mimetype == "text/html"
    text = answer.get_data(as_text=True)
    assert "This form has expired" in text and "Nothing was changed" in text
    assert "Traceback" not in text
    assert session_of(app, client)["user"]["zone"] is None
    assert answer.headers["X-API-Calls"] == "0"


def test_the_same_form_with_the_token_of_the_page_is_accepted(app):
    client = app.test_client()
    sign_in(client, role="participant")
    answer = client.post(
        "/my/zone", data={"zone": "Pacific/Guam", "next": "/my/training", "csrf_token": csrf_token(client)}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/my/training"
    assert session_of(app, client)["user"]["zone"] == "Pacific/Guam"


def test_another_sessions_token_is_refused(app):
    mine, theirs = app.test_client(), app.test_client()
    sign_in(mine, role="participant")
    sign_in(theirs, role="participant")
    stolen = csrf_token(theirs)
    assert stolen != csrf_token(mine)
    assert mine.post("/sign-out", data={"csrf_token": stolen}).status_code == 400
    assert session_of(app, mine)["user"]["sub"] == "dev-participant-ca"


def test_signing_in_starts_a_new_token(app):
    """A token a page gave before the sign-in (perhaps planted by someone else) is worth nothing after it."""
    client = app.test_client()
    before = csrf_token(client)
    sign_in(client, role="participant")
    after = csrf_token(client)
    assert before != after
    assert client.post("/sign-out", data={"csrf_token": before}).status_code == 400
    assert client.post("/sign-out", data={"csrf_token": after}).status_code == 302


def test_signing_in_itself_needs_the_token(app):
    """Login forgery: another site must not sign a person in as someone it chose."""
    client = app.test_client()
    client.get("/sign-in")
    answer = client.post("/sign-in", data={"role": "national_admin", "tenant": "US"})
    assert answer.status_code == 400
    assert "user" not in session_of(app, client)


def test_queued_attendance_marks_need_the_token_in_their_header(app):
    client = app.test_client()
    sign_in(client, role="facilitator")
    mark = {"key": "k", "registration_id": "r", "status": "present", "marked_at": "2026-01-01T00:00:00Z"}
    refused = client.post("/sessions/s1/attendance/marks", json={"marks": [mark]})
    assert refused.status_code == 400
    assert refused.get_json()["type"] == "csrf"  # the attendance script renews its token and sends again
    assert refused.headers["X-API-Calls"] == "0"
    forged = client.post("/sessions/s1/attendance/marks", json={"marks": [mark]}, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 400
    # With the page's token the marks get as far as the scheduling API (here, one that does not answer).
    passed = client.post(
        "/sessions/s1/attendance/marks", json={"marks": [mark]}, headers={"X-CSRF-Token": csrf_token(client)}
    )
    assert passed.status_code == 503 and passed.headers["X-API-Calls"] == "1"


def test_every_form_that_posts_carries_the_token():
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "services" / "portal" / "templates"
    forms = [
        (path.name, match.group(0))
        for path in sorted(templates.glob("*.html"))
        for match in re.finditer(r"<form[^>]*method=\"post\"[^>]*>(\{\{ csrf_field\(\) \}\})?", path.read_text())
    ]
    assert len(forms) >= 19
    assert [name for name, tag in forms if "csrf_field()" not in tag] == []


# --- in a real browser, from another site's page ----------------------------------------------------


class Served:
    """A WSGI app on a free local port, in a thread."""

    def __init__(self, wsgi):
        self.server = make_server("127.0.0.1", 0, wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_a_forged_form_on_another_sites_page_is_refused_in_the_browser(app, browser):
    """Another port of the same host is another origin but the same site, so the browser sends the
    portal's ``SameSite=Lax`` cookie with the forged POST: only the token stops it."""
    portal = Served(app)
    forged_forms = {
        "/sign-out": {},
        "/my/zone": {"zone": "Pacific/Guam", "next": "/"},
    }

    def evil(environ, start_response):
        target = environ["PATH_INFO"]
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{value}">' for name, value in forged_forms[target].items()
        )
        page = (
            f'<!doctype html><title>Prize</title><form method="post" action="{portal.url}{target}">{fields}</form>'
            "<script>document.forms[0].submit()</script>"
        )
        return Response(page, content_type="text/html")(environ, start_response)

    attacker = Served(evil)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{portal.url}/sign-in")
        page.get_by_role("button", name=re.compile("Ana López")).click()  # the sign-in form carries its token
        page.wait_for_url(re.compile(r"/my/training"))
        signed_in = _session(app, context, portal.url)
        assert signed_in["user"]["sub"] == "dev-participant-ca"

        for target in forged_forms:
            page.goto(f"{attacker.url}{target}")
            page.wait_for_url(f"{portal.url}{target}")
            assert page.get_by_role("heading", name="This form has expired").is_visible()
            after = _session(app, context, portal.url)
            assert after["user"] == signed_in["user"], f"{target} changed the session"
    finally:
        context.close()
        attacker.close()
        portal.close()


def _session(app, context, url: str) -> dict:
    (cookie,) = [c for c in context.cookies(url) if c["name"] == "session"]
    return app.session_interface.get_signing_serializer(app).loads(cookie["value"])

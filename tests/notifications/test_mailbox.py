"""The development mailbox: the local sink (aiosmtpd) keeps what the platform sends; a page shows each message."""

from __future__ import annotations

import dataclasses
import smtplib
import threading
from email.message import EmailMessage

import pytest
import vobject
from werkzeug.serving import make_server

from services.notifications.app import create_app
from services.notifications.sink import start_sink
from shared.testing import spare_port
from tests.notifications.conftest import Deliver, add_contact, next_week, session_data, session_event


@pytest.fixture
def sink_ctx(notifications_ctx, tmp_path):
    port = spare_port()
    folder = tmp_path / "mailbox"
    controller = start_sink(folder, port=port)
    ctx = dataclasses.replace(
        notifications_ctx,
        config=dataclasses.replace(notifications_ctx.config, smtp_port=port, mailbox_dir=str(folder)),
    )
    yield ctx
    controller.stop()


def test_a_newcomer_reads_the_emails_the_walkthrough_caused(sink_ctx):
    add_contact(sink_ctx, "ana", "ana@example.org", language="es")
    deliver = Deliver(sink_ctx)
    deliver.event(session_event("scheduled", session_data(next_week())))
    assert deliver.send() == 1
    client = create_app(sink_ctx).test_client()

    listing = client.get("/dev/mailbox")
    assert listing.status_code == 200 and listing.mimetype == "text/html"
    page = listing.get_data(as_text=True)
    assert "ana@example.org" in page and "Invitación: Session 1: Relationship-based care" in page
    key = page.split('href="/dev/mailbox/', 1)[1].split('"', 1)[0]

    shown = client.get(f"/dev/mailbox/{key}").get_data(as_text=True)
    assert "Su primera" not in shown and "Se ha programado una sesión de su formación." in shown  # the text part
    html = client.get(f"/dev/mailbox/{key}/html")
    assert html.mimetype == "text/html" and "default-src 'none'" in html.headers["Content-Security-Policy"]
    assert '<html lang="es">' in html.get_data(as_text=True)
    invite = client.get(f"/dev/mailbox/{key}/invite.ics")
    assert invite.mimetype == "text/calendar"
    assert vobject.readOne(invite.get_data(as_text=True)).method.value == "REQUEST"
    assert client.get("/dev/mailbox/no-such-message").status_code == 404


def test_the_banner_of_make_run_points_to_the_mailbox(monkeypatch, tmp_path):
    from shared.launcher import banner

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMTP_SINK_DIR", str(tmp_path / "mailbox"))
    assert "http://127.0.0.1:8004/dev/mailbox" in banner()


def test_a_message_opens_at_its_own_height_and_its_scripts_never_run(sink_ctx, browser, tmp_path):
    add_contact(sink_ctx, "ana", "ana@example.org")
    deliver = Deliver(sink_ctx)
    deliver.event(session_event("scheduled", session_data(next_week())))
    assert deliver.send() == 1
    # Anything may reach the sink; a message whose HTML carries a script must not reach the page around it.
    hostile = EmailMessage()
    hostile["From"], hostile["To"], hostile["Subject"] = "x@example.org", "ana@example.org", "Hostile"
    hostile.set_content("plain")
    hostile.add_alternative(
        "<html><body><p>Hi</p><script>parent.document.title = 'taken'</script></body></html>", subtype="html"
    )
    with smtplib.SMTP("127.0.0.1", sink_ctx.config.smtp_port) as smtp:
        smtp.send_message(hostile)

    server = make_server("127.0.0.1", 0, create_app(sink_ctx), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        base = f"http://127.0.0.1:{server.server_port}/dev/mailbox"
        page.goto(base)
        page.get_by_role("link", name="You're invited: Session 1: Relationship-based care").click()
        page.wait_for_load_state("load")
        frame = page.frame_locator("iframe[title='HTML part']")
        frame.get_by_text("A session of your training has been scheduled.").wait_for()
        # The frame is as tall as the message: no inner scroll bar, no empty box below a short message.
        message_height, frame_height = page.frames[1].evaluate(
            "[document.documentElement.getBoundingClientRect().height, window.innerHeight]"
        )
        assert abs(message_height - frame_height) <= 1
        page.screenshot(path=str(tmp_path / "mailbox-message.png"), full_page=True)

        page.goto(base)
        page.get_by_role("link", name="Hostile").click()
        page.wait_for_load_state("load")
        page.frame_locator("iframe[title='HTML part']").get_by_text("Hi").wait_for()
        assert page.title() == "Hostile"
    finally:
        page.close()
        server.shutdown()

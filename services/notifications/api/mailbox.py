"""The development mailbox: the messages the local sink received, each as a person would read it.

Served only when SMTP_SINK_DIR is set (``make run`` sets it); it is a page for people, not part of
the API, so it is not in the OpenAPI document.
"""

from __future__ import annotations

import mailbox
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, Response, abort, render_template_string

from shared.http.api import context

blp = Blueprint("mailbox", __name__, url_prefix="/dev/mailbox")

LIST = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Development mailbox</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:2rem;color:#1f2933}table{border-collapse:collapse;width:100%}
td,th{padding:.4rem .6rem;border-bottom:1px solid #e4e7eb;text-align:left}a{color:#2f6f5e}</style></head><body>
<h1>Development mailbox</h1>
<p>Every e-mail the platform sent while running locally. Nothing left this machine.</p>
{% if not messages %}<p>No messages yet: register someone for a session, or schedule one.</p>{% endif %}
<table><tr><th>Received</th><th>To</th><th>Subject</th><th>Invite</th></tr>
{% for m in messages %}<tr><td>{{ m.date }}</td><td>{{ m.to }}</td>
<td><a href="{{ url_for('mailbox.show', key=m.key) }}">{{ m.subject }}</a></td>
<td>{% if m.invite %}<a href="{{ url_for('mailbox.invite', key=m.key) }}">invite.ics</a>{% endif %}</td></tr>
{% endfor %}</table></body></html>"""

SHOW = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{{ subject }}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:2rem;color:#1f2933}pre{white-space:pre-wrap;background:#f5f7fa;padding:1rem}
iframe{width:100%;height:24rem;border:1px solid #e4e7eb}dt{font-weight:bold}dd{overflow-wrap:anywhere}</style></head><body>
<p><a href="{{ url_for('mailbox.index') }}">&larr; Mailbox</a></p>
<dl><dt>From</dt><dd>{{ sender }}</dd><dt>To</dt><dd>{{ to }}</dd><dt>Subject</dt><dd>{{ subject }}</dd>
<dt>Message-ID</dt><dd>{{ message_id }}</dd>
{% if unsubscribe %}<dt>List-Unsubscribe</dt><dd><a href="{{ unsubscribe }}">{{ unsubscribe }}</a> (a mail provider's
Unsubscribe button posts to it: this kind of e-mail stops for this person)</dd>{% endif %}</dl>
{% if invite %}<p><a href="{{ url_for('mailbox.invite', key=key) }}">Calendar invite (invite.ics)</a></p>{% endif %}
<h2>As HTML</h2><iframe sandbox="allow-same-origin" src="{{ url_for('mailbox.html', key=key) }}" title="HTML part"
 onload="this.style.height = Math.ceil(this.contentDocument.documentElement.getBoundingClientRect().height) + 'px'"></iframe>
<h2>As plain text</h2><pre>{{ text }}</pre>
{% if invite %}<h2>Invite</h2><pre>{{ invite }}</pre>{% endif %}</body></html>"""


def _folder() -> Path:
    folder = context().config.mailbox_dir
    if not folder:
        abort(404)
    return Path(folder)


def _messages() -> list[tuple[str, object]]:
    box = mailbox.Maildir(str(_folder()), create=True)
    found = []
    for key in box.keys():
        with box.get_file(key) as handle:
            found.append((key, BytesParser(policy=policy.default).parse(handle)))
    found.sort(key=lambda item: item[0], reverse=True)  # a Maildir key starts with its arrival time
    return found


def _message(key: str):
    box = mailbox.Maildir(str(_folder()), create=True)
    try:
        with box.get_file(key) as handle:
            return BytesParser(policy=policy.default).parse(handle)
    except (KeyError, FileNotFoundError):
        abort(404)


def _parts(message) -> tuple[str, str, str | None]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    invite = next((p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"), None)
    return (
        text.get_content() if text else "",
        html.get_content() if html else "",
        invite.get_content() if invite is not None else None,
    )


@blp.route("")
def index():
    rows = []
    for key, message in _messages():
        rows.append(
            {
                "key": key,
                "date": message["Date"],
                "to": message["To"],
                "subject": message["Subject"],
                "invite": _parts(message)[2] is not None,
            }
        )
    return render_template_string(LIST, messages=rows)


@blp.route("/<key>")
def show(key):
    message = _message(key)
    text, _html, invite = _parts(message)
    return render_template_string(
        SHOW,
        key=key,
        sender=message["From"],
        to=message["To"],
        subject=message["Subject"],
        message_id=message["Message-ID"],
        unsubscribe=str(message["List-Unsubscribe"] or "").strip().strip("<>"),
        text=text,
        invite=invite,
    )


@blp.route("/<key>/html")
def html(key):
    # Shown in a sandboxed frame: the message's own markup, with no script allowed to run (the sandbox
    # withholds scripts and this policy forbids them). Same-origin lets the page size the frame to the
    # message, as a mail client shows it, instead of a fixed box that is too tall or scrolls.
    return Response(
        _parts(_message(key))[1],
        mimetype="text/html",
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"},
    )


@blp.route("/<key>/invite.ics")
def invite(key):
    ics = _parts(_message(key))[2]
    if ics is None:
        abort(404)
    return Response(ics, mimetype="text/calendar", headers={"Content-Disposition": 'attachment; filename="invite.ics"'})

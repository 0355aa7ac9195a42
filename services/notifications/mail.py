"""Sending e-mail over SMTP (STARTTLS and login when configured), one connection kept for a batch."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections import deque
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

from services.notifications.domain.bounces import refuses_the_address
from shared.db import utcnow


class PermanentFailure(Exception):
    """The server refused the message for good (a 5xx answer): sending it again would not help.

    ``refused_address``: the server's reply when it refused the address itself (``domain/bounces.py``),
    so that later messages to it are not sent; None when it refused this message only.
    """

    def __init__(self, reason: str, refused_address: str | None = None):
        super().__init__(reason)
        self.refused_address = refused_address


def build_message(delivery, mail_from: str, unsubscribe_url: str | None = None) -> Message:
    """The message a person receives: text and HTML alternatives, and the calendar invite when there is one;
    with ``unsubscribe_url``, the headers of a one-click unsubscribe (RFC 2369 and RFC 8058).

    Built with the email package's classic classes: its modern API re-parses every header it sets,
    several times slower, and ``make bench`` shows that cost against plain smtplib.
    """
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(delivery.text_body, "plain", "utf-8"))
    body.attach(MIMEText(delivery.html_body, "html", "utf-8"))
    if delivery.invite:
        message = MIMEMultipart("mixed")
        message.attach(body)
        method = "CANCEL" if "METHOD:CANCEL" in delivery.invite else "REQUEST"
        invite = MIMEText(delivery.invite, "calendar", "utf-8")
        invite.set_param("method", method)
        invite.set_param("name", "invite.ics")
        invite.add_header("Content-Disposition", "attachment", filename="invite.ics")
        message.attach(invite)
    else:
        message = body
    message["Message-ID"] = delivery.message_id
    message["Date"] = format_datetime(delivery.created_at or utcnow())
    message["From"] = mail_from
    message["To"] = delivery.recipient
    message["Subject"] = Header(delivery.subject, "utf-8")  # RFC 2047 words: any server takes them
    message["Content-Language"] = delivery.language
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


class SendingPace:
    """At most ``per_minute`` messages in any 60 seconds, as a mail server that counts them so expects.

    Many relays a state agency may be given cap how fast one account sends (a few dozen a minute for an
    office suite's mailbox, a few a second for a cloud relay's new account), and answer the rest with a
    4xx, which would push them back on the retry schedule by minutes to hours: a reminder due in an hour
    could arrive after the session. So the sender takes only what it may send now and leaves the rest
    waiting, untouched, for the next look. ``per_minute`` 0: no limit.
    """

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute, self.clock = per_minute, clock
        self._sent: deque[float] = deque()

    def allowed(self) -> int | None:
        """How many messages may go now (None: any number)."""
        if not self.per_minute:
            return None
        now = self.clock()
        while self._sent and self._sent[0] <= now - 60:
            self._sent.popleft()
        return max(0, self.per_minute - len(self._sent))

    def note_sent(self) -> None:
        if self.per_minute:
            self._sent.append(self.clock())


class SmtpMailer:
    """Sends messages through one SMTP connection, opened on first use and reopened when it drops, at most
    ``SMTP_MAX_PER_MINUTE`` a minute from this process (``pace``)."""

    def __init__(self, config, *, clock=time.monotonic):
        self.config = config
        self.pace = SendingPace(config.smtp_max_per_minute, clock)
        self._smtp: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.config.smtp_host, self.config.smtp_port, timeout=self.config.smtp_timeout)
            if self.config.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.config.smtp_username:
                smtp.login(self.config.smtp_username, self.config.smtp_password)
            self._smtp = smtp
        return self._smtp

    def send(self, message: Message) -> int:
        """Send one message; return its latency in milliseconds. Raises PermanentFailure on a 5xx refusal."""
        started = time.monotonic()
        # Every attempt counts against the pace, refused or not: the server counted it.
        self.pace.note_sent()
        for attempt in range(2):
            try:
                self._connection().send_message(message)
                return int((time.monotonic() - started) * 1000)
            except smtplib.SMTPRecipientsRefused as exc:
                replies = [(code, _text(reply)) for code, reply in exc.recipients.values()]
                if all(code >= 500 for code, _ in replies):
                    said = "; ".join(f"{code} {reply}" for code, reply in replies)
                    address = all(refuses_the_address(code, reply) for code, reply in replies)
                    raise PermanentFailure(f"recipient refused: {said}", said if address else None) from exc
                raise
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPServerDisconnected):
                    raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
                raise
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                # A kept connection the server closed since its last use: open a new one, once.
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._smtp = None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply

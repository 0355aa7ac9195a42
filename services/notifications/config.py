"""Notifications' configuration: the common settings plus SMTP, the development mailbox and reminders."""

from __future__ import annotations

from dataclasses import dataclass

from services.notifications import SERVICE
from shared.config import CommonConfig, ConfigError, env_bool, env_float, env_int, env_list, env_str


@dataclass(frozen=True)
class NotificationsConfig(CommonConfig):
    """Attributes beyond CommonConfig:

    smtp_host, smtp_port: the mail server (SMTP_HOST, SMTP_PORT; the local sink 127.0.0.1:1025 by default).
    smtp_starttls: upgrade the connection with STARTTLS before sending (SMTP_STARTTLS).
    smtp_username, smtp_password: log in when set (SMTP_USERNAME, SMTP_PASSWORD).
    smtp_timeout: seconds to wait for the mail server (SMTP_TIMEOUT).
    smtp_max_per_minute: at most this many e-mails in any minute from each sending process, for a mail
        server that limits an account's rate (SMTP_MAX_PER_MINUTE; 0, the default: no limit).
    mail_from: the From address (MAIL_FROM).
    mailbox_dir: the development sink's Maildir (SMTP_SINK_DIR); when set, ``/dev/mailbox`` lists it.
    sink_port: the port the development sink listens on (SMTP_SINK_PORT).
    reminder_minutes: how long before a session each reminder goes (REMINDER_MINUTES, default 1440,60).
    send_lease_seconds: a message claimed for sending and not recorded as sent within this time is taken
        for a crashed send and sent again, with the same Message-ID (SEND_LEASE_SECONDS).
    send_max_attempts: failed sends of one message before it is marked failed (SEND_MAX_ATTEMPTS).
    send_interval: seconds between the worker's looks for messages to send (SEND_INTERVAL).
    webhook_allow_private: let webhook subscriptions use plain HTTP and private, loopback or link-local
        addresses (WEBHOOK_ALLOW_PRIVATE; for tests and on-premises receivers only).
    webhook_timeout: seconds a receiver has to answer (WEBHOOK_TIMEOUT); anything but a 2xx in time fails.
    webhook_disable_after_hours: an endpoint failing without a success for this long is disabled and its
        contact told (WEBHOOK_DISABLE_AFTER_HOURS, default 5 days).
    portal_url: the portal's public address (PORTAL_PUBLIC_URL, as the portal reads it); when set, each
        e-mail to a person links to "My e-mails" there, where they choose what they receive.
    unsubscribe_secret: signs the one-click unsubscribe link (``List-Unsubscribe``) each e-mail a person
        may turn off carries (UNSUBSCRIBE_SECRET, at least 32 characters, the same for the API and the
        workers); unset, e-mails carry no such link and the API refuses every one.
    message_content_retention_days: a settled message's subject and bodies (text, HTML, invite, a
        webhook's payload) are deleted this long after it was written (MESSAGE_CONTENT_RETENTION_DAYS,
        default 30); it can then no longer be sent again.
    delivery_log_retention_days: its row, who and when and how it went, is deleted this long after it was
        written (DELIVERY_LOG_RETENTION_DAYS, default 400: a program year and its reports). At least the
        content's retention and the inbox's (INBOX_RETENTION_HOURS), so an event redelivered while the
        inbox would not recognise it still finds its messages written.

    Its consumer handles events in batches (CONSUMER_BATCH_SIZE, default 250): one transaction for a
    batch of registrations instead of one each (see ``Notifier.handle_many``). A batch's dozen round
    trips to the database are spread over its events: 100 rather than 50 gave about 1.5 times the
    events per second (bench.pipeline), 250 rather than 100 about 1.12 times (1,416-1,510/s against
    1,307-1,449/s, three runs each of 8,000 events, alternated; 500 gave 1,455-1,628/s). A consumer
    that dies hands back at most 1,000 messages (its four batches unacknowledged), each handled
    again; a batch that fails is handled again one message at a time.
    """

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: float = 10.0
    smtp_max_per_minute: int = 0
    mail_from: str = "Training for Trainers <notifications@t4t.localhost>"
    mailbox_dir: str = ""
    sink_port: int = 1025
    reminder_minutes: tuple[int, ...] = (1440, 60)
    send_lease_seconds: float = 60.0
    send_max_attempts: int = 8
    send_interval: float = 1.0
    webhook_allow_private: bool = False
    webhook_timeout: float = 10.0
    webhook_disable_after_hours: float = 120.0
    portal_url: str = ""
    unsubscribe_secret: str = ""
    message_content_retention_days: int = 30
    delivery_log_retention_days: int = 400

    @classmethod
    def from_env(cls, **overrides) -> NotificationsConfig:
        values = cls.common_from_env(SERVICE, default_port=8004)
        sink_port = env_int("SMTP_SINK_PORT", 1025, minimum=1)
        values.update(
            consumer_batch_size=env_int("CONSUMER_BATCH_SIZE", 250, minimum=1),
            smtp_host=env_str("SMTP_HOST", "127.0.0.1"),
            smtp_port=env_int("SMTP_PORT", sink_port, minimum=1),
            smtp_starttls=env_bool("SMTP_STARTTLS", False),
            smtp_username=env_str("SMTP_USERNAME", ""),
            smtp_password=env_str("SMTP_PASSWORD", ""),
            smtp_timeout=env_float("SMTP_TIMEOUT", 10.0),
            smtp_max_per_minute=env_int("SMTP_MAX_PER_MINUTE", 0, minimum=0),
            mail_from=env_str("MAIL_FROM", "Training for Trainers <notifications@t4t.localhost>"),
            mailbox_dir=env_str("SMTP_SINK_DIR", ""),
            sink_port=sink_port,
            reminder_minutes=_minutes(env_list("REMINDER_MINUTES", ("1440", "60"))),
            send_lease_seconds=env_float("SEND_LEASE_SECONDS", 60.0),
            send_max_attempts=env_int("SEND_MAX_ATTEMPTS", 8, minimum=1),
            send_interval=env_float("SEND_INTERVAL", 1.0),
            webhook_allow_private=env_bool("WEBHOOK_ALLOW_PRIVATE", False),
            webhook_timeout=env_float("WEBHOOK_TIMEOUT", 10.0),
            webhook_disable_after_hours=env_float("WEBHOOK_DISABLE_AFTER_HOURS", 120.0),
            portal_url=env_str("PORTAL_PUBLIC_URL", "").rstrip("/"),
            unsubscribe_secret=_secret(env_str("UNSUBSCRIBE_SECRET", "")),
            message_content_retention_days=env_int("MESSAGE_CONTENT_RETENTION_DAYS", 30, minimum=1),
            delivery_log_retention_days=env_int("DELIVERY_LOG_RETENTION_DAYS", 400, minimum=1),
        )
        values.update(overrides)
        _check_retention(values)
        return cls(**values)


def _check_retention(values: dict) -> None:
    log_days, content_days = values["delivery_log_retention_days"], values["message_content_retention_days"]
    if log_days < content_days:
        raise ConfigError("DELIVERY_LOG_RETENTION_DAYS must be at least MESSAGE_CONTENT_RETENTION_DAYS")
    if log_days * 24 < values["inbox_retention_hours"]:
        # A redelivered event the inbox no longer knows would find no message written and write it again.
        raise ConfigError("DELIVERY_LOG_RETENTION_DAYS must be at least INBOX_RETENTION_HOURS (in days)")


def _secret(value: str) -> str:
    if value and len(value) < 32:
        # A short secret is a guessable one, and a guessed secret lets anyone turn off anyone's e-mail.
        raise ConfigError("UNSUBSCRIBE_SECRET must be at least 32 characters (for example: openssl rand -hex 32)")
    return value


def _minutes(items: tuple[str, ...]) -> tuple[int, ...]:
    try:
        minutes = tuple(sorted({int(item) for item in items if item.strip()}, reverse=True))
    except ValueError as exc:
        raise ConfigError(f"REMINDER_MINUTES must list whole minutes, such as 1440,60 ({exc})") from None
    if any(m <= 0 for m in minutes):
        raise ConfigError("REMINDER_MINUTES must be positive")
    return minutes

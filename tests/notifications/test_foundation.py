"""The notifications service's foundation: its topology rows, its OpenAPI document, its kinds and templates."""

from __future__ import annotations

from services.notifications.domain.kinds import KINDS, REMINDER, TEMPLATES, WEBHOOK_ONLY
from services.notifications.handlers import build_handlers
from services.notifications.rendering import TEMPLATES as TEMPLATE_FOLDER
from shared.events import CATALOGUE
from shared.messaging.topology import SUBSCRIPTIONS


def test_handlers_agree_with_the_platform_topology():
    subscribed = {s.handler for s in SUBSCRIPTIONS if s.consumer == "notifications"}
    assert subscribed == set(build_handlers(notifier=None))


def test_it_subscribes_to_every_catalogued_event_it_has_a_template_for():
    [notify] = [s for s in SUBSCRIPTIONS if s.consumer == "notifications" and s.handler == "notify"]
    [community] = [s for s in SUBSCRIPTIONS if s.consumer == "notifications" and s.handler == "notify_community"]
    assert not set(notify.event_types) & set(community.event_types)
    # The learning communities' events have a handler of their own, which also keeps members' contact points.
    membership = {"content.community.member_joined", "content.community.member_left"}
    # A support activity logged and a commitment fulfilled only go to state systems' webhooks.
    assert set(WEBHOOK_ONLY).isdisjoint(KINDS) and set(WEBHOOK_ONLY) <= set(CATALOGUE)
    everything = {t for t in KINDS if t in CATALOGUE} | membership | set(WEBHOOK_ONLY)
    assert set(notify.event_types) | set(community.event_types) == everything


def test_every_kind_has_a_template_in_english_and_spanish():
    for template in TEMPLATES:
        for language in ("en", "es"):
            assert (TEMPLATE_FOLDER / language / f"{template}.txt").is_file(), (template, language)
    assert REMINDER.template in TEMPLATES


def test_health_and_openapi(nclient):
    from openapi_spec_validator import validate

    assert nclient.get("/healthz").status_code == 200
    validate(nclient.get("/openapi.json").json)


def test_the_development_mailbox_is_absent_unless_configured(nclient):
    assert nclient.get("/dev/mailbox").status_code == 404

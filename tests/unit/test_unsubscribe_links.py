"""One-click unsubscribe links: only this service's secret makes one, and one says exactly whose choice it is."""

import pytest

from services.notifications.config import NotificationsConfig
from services.notifications.domain.unsubscribe import Unsubscription, read_token, token_for
from shared.config import ConfigError

SECRET = "x" * 32


def test_a_link_reads_back_as_the_person_and_kind_it_was_made_for_whatever_they_hold():
    for asked in (
        Unsubscription("CA", "auth0|5f1c.77", "session_reminder"),
        Unsubscription("NAVAJO-NATION", "josé.núñez@example.org", "followup_due"),
    ):
        token = token_for(SECRET, asked)
        assert token.isascii() and "/" not in token and token.count(".") == 1
        assert read_token(SECRET, token) == asked


def test_no_link_reads_under_another_secret_or_none():
    token = token_for(SECRET, Unsubscription("CA", "ana", "session_reminder"))
    assert read_token("y" * 32, token) is None
    assert read_token("", token) is None  # a service with no secret takes no link at all


def test_a_signed_payload_that_is_not_three_names_is_refused():
    import base64
    import hashlib
    import hmac

    def signed(payload: bytes) -> str:
        encoded = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
        mac = hmac.new(SECRET.encode(), encoded.encode(), hashlib.sha256).digest()[:16]
        return f"{encoded}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    assert read_token(SECRET, signed(b'["CA","ana","kind"]')) == Unsubscription("CA", "ana", "kind")
    for payload in (b'["CA","ana"]', b'["CA","","kind"]', b"{}", b"not json", b'["CA","ana",3]'):
        assert read_token(SECRET, signed(payload)) is None, payload


def test_a_short_secret_stops_the_service_at_start(monkeypatch):
    monkeypatch.setenv("UNSUBSCRIBE_SECRET", "too-short")
    with pytest.raises(ConfigError, match="at least 32 characters"):
        NotificationsConfig.from_env()


def test_the_page_names_every_kind_a_link_may_turn_off_in_both_languages():
    from services.notifications.api.unsubscribe import KIND_NAMES
    from services.notifications.domain.kinds import TEMPLATES

    assert set(KIND_NAMES) == set(TEMPLATES)
    assert all(english and spanish and english != spanish for english, spanish in KIND_NAMES.values())

"""Whose word a contact point keeps: the name and e-mail given last."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications.domain.contacts import takes_contact

EARLIER = datetime(2026, 9, 1, 15, tzinfo=UTC)
LATER = EARLIER + timedelta(days=30)


def test_an_address_given_later_replaces_one_given_earlier_and_never_the_other_way():
    assert takes_contact(EARLIER, LATER)
    assert not takes_contact(LATER, EARLIER)


def test_the_same_moment_is_the_same_giving():
    """The events of one registration (confirmed, then cancelled) carry the same time: each is taken."""
    assert takes_contact(EARLIER, EARLIER)


def test_what_nobody_dated_takes_any_address_and_an_undated_one_replaces_nothing_dated():
    assert takes_contact(None, EARLIER) and takes_contact(None, None)
    assert not takes_contact(EARLIER, None)

"""Learning communities' rules: the lifecycle, who sees a space, follows, consent and attribution."""

from __future__ import annotations

from datetime import date

import pytest

from services.content.domain import communities as rules
from shared.errors import Conflict, Forbidden, InvalidInput


@pytest.mark.parametrize(
    "current,wanted",
    [
        ("convening", "active"),
        ("convening", "closed"),
        ("active", "closing"),
        ("closing", "active"),
        ("closing", "closed"),
    ],
)
def test_the_lifecycle_allows_these_moves(current, wanted):
    assert rules.transition(current, wanted) == wanted


@pytest.mark.parametrize(
    "current,wanted",
    [
        ("convening", "closing"),
        ("active", "convening"),
        ("active", "closed"),
        ("closed", "active"),
        ("closed", "convening"),
    ],
)
def test_the_lifecycle_refuses_every_other_move(current, wanted):
    with pytest.raises(Conflict):
        rules.transition(current, wanted)


def test_a_community_starts_on_the_monday_of_its_start_week():
    assert rules.start_week(date(2006, 6, 12)) == date(2006, 6, 12)  # a Monday stays
    assert rules.start_week(date(2006, 6, 18)) == date(2006, 6, 12)  # the Sunday of that week


def viewer(**kw):
    return rules.Viewer(**{"sub": "x", "tenant": "CA", "staff": False, "jurisdiction_admin": False, **kw})


def test_who_sees_a_space():
    assert rules.sees_space(viewer(staff=True, tenant="US"), is_member=False, jurisdiction_is_member=False)
    assert rules.sees_space(viewer(), is_member=True, jurisdiction_is_member=False)
    assert rules.sees_space(viewer(jurisdiction_admin=True), is_member=False, jurisdiction_is_member=True)
    assert not rules.sees_space(
        viewer(), is_member=False, jurisdiction_is_member=True
    )  # a non-member of a member jurisdiction
    assert not rules.sees_space(viewer(jurisdiction_admin=True), is_member=False, jurisdiction_is_member=False)


def test_only_members_and_staff_post_and_only_members_follow():
    rules.check_may_post(viewer(staff=True), is_member=False)
    with pytest.raises(Forbidden):
        rules.check_may_post(viewer(jurisdiction_admin=True), is_member=False)
    with pytest.raises(Forbidden):
        rules.check_may_follow(is_member=False)


def test_team_members_need_a_known_jurisdiction_and_others_none():
    rules.check_member("team_member", "CA", known=True)
    rules.check_member("guest_expert", None, known=False)
    for kind, code, known in (("team_member", None, False), ("team_member", "ZZ", False), ("staff", "CA", True)):
        with pytest.raises(InvalidInput):
            rules.check_member(kind, code, known=known)


def test_followers_who_left_or_unfollowed_and_the_author_are_not_told():
    following = {"ana": True, "ben": True, "cruz": False, "gone": True}
    assert rules.to_tell(following, author="ben", members=["ana", "ben", "cruz"]) == ["ana"]


def test_an_excerpt_is_280_characters_of_one_line():
    assert rules.excerpt("a\n\nb") == "a b"
    assert len(rules.excerpt("word " * 200)) == 280


def test_a_tribe_is_never_attributed_without_consent():
    assert rules.attribution("CTUIR", None, tribe=True) == (False, None)
    assert rules.attribution("CTUIR", "anonymise", tribe=True) == (True, None)
    assert rules.attribution("CTUIR", "attribute", tribe=True) == (True, "CTUIR")
    assert rules.attribution("CA", None, tribe=False) == (True, None)
    assert rules.attribution("CA", "exclude", tribe=False) == (False, None)
    assert rules.attribution(None, None, tribe=False) == (True, None)  # staff and guest experts

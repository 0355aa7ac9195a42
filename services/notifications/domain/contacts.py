"""Whose word a contact point keeps: the name and e-mail given last."""

from __future__ import annotations

from datetime import datetime


def takes_contact(held_since: datetime | None, given_at: datetime | None) -> bool:
    """Whether a name and e-mail given at ``given_at`` replace those a contact point holds since ``held_since``.

    A person with two registrations (two cohorts; a work and a home address) gave each its own: the
    one given last is theirs, whichever registration the next event is about (a promotion from an old
    waitlist gives nothing new). A state system's correction is given when it is made, so a later
    event carrying an older address does not undo it. An event that does not say when (published
    before registrations said so) replaces only what nobody dated.
    """
    if held_since is None:
        return True
    return given_at is not None and given_at >= held_since

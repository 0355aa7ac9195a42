"""Each e-mail names the portal page its reader acts on, and that page is one the portal serves."""

from __future__ import annotations

import pytest

from services.notifications.domain.kinds import TEMPLATES
from services.notifications.domain.pages import page_of
from services.notifications.rendering import LABELS
from services.portal.app import create_app
from tests.portal.test_pages import closed_port, config

SESSION = {"session_id": "s1", "cohort_id": "c1", "facilitators": ["fac|1"]}
PLAN = {"plan_id": "p1", "trainer": "auth0|ana", "specialist": "sam"}
COMMUNITY_CALL = {"call_id": "call-1", "community_id": "community-1"}
AUDIO_CONFERENCE = {"call_id": "call-2", "community_id": None}

# (template, the event's data, the reader) -> the page they are sent to
EXPECTED = [
    ("registration_confirmed", {"cohort_id": "c1"}, "ana", "/my/training"),
    ("registration_cancelled", {"cohort_id": "c1"}, "ana", "/my/training"),
    ("session_rescheduled", SESSION, "ana", "/my/training"),
    ("session_rescheduled", SESSION, "fac|1", "/my/sessions"),
    ("session_reminder", SESSION, "ana", "/my/training"),
    ("request_declined", {"request_id": "r1"}, "lee", "/requests"),
    ("adaptation_reviewed", {"adaptation_id": "a1", "facilitator": "fac"}, "fac", "/my/adaptations/a1"),
    ("plan_opened", PLAN, "auth0|ana", "/my/commitment"),
    ("plan_opened", PLAN, "sam", "/coach/trainers/auth0%7Cana"),
    ("specialist_assigned", PLAN, "sam", "/coach/trainers/auth0%7Cana"),
    ("commitment_overdue", PLAN, "auth0|ana", "/my/commitment"),
    ("commitment_overdue", PLAN, "sam", "/coach/trainers/auth0%7Cana"),
    ("followup_due", {"trainer": "auth0|ana", "author": "sam"}, "sam", "/coach/trainers/auth0%7Cana"),
    ("community_call_scheduled", COMMUNITY_CALL, "ana", "/communities/community-1/calls/call-1"),
    ("community_call_reminder", AUDIO_CONFERENCE, "ana", "/audio-conferences/call-2"),
    (
        "thread_replied",
        {"community_id": "community-1", "thread_id": "t1"},
        "ana",
        "/communities/community-1/threads/t1",
    ),
    ("synthesis_published", {"community_id": "community-1", "synthesis_id": "y1"}, "ana", "/syntheses/y1"),
    ("community_left", {"community_id": "community-1"}, "ana", "/communities"),
    ("training_completed", {"registration_id": "r 1"}, "ana", "/registrations/r%201/certificate.pdf"),
    ("webhook_disabled", {"url": "https://registry.example.gov/t4t"}, "admin-ca", "/webhooks"),
]


@pytest.mark.parametrize(("template", "data", "person", "path"), EXPECTED)
def test_an_email_leads_its_reader_to_the_page_they_act_on(template, data, person, path):
    assert page_of(template, data, person).path == path


def test_kinds_without_a_page_of_their_readers_link_nowhere():
    # A webhook's notice to its contact address is to no person of the platform: no page of theirs.
    assert page_of("webhook_disabled", {}, None) is None
    assert page_of("commitment_due_soon", {"trainer": None}, "ana") is None
    assert page_of("registration_confirmed", None, "ana") is None  # nothing known about the message


def test_every_template_is_either_linked_or_known_to_have_no_page():
    unlinked: set[str] = set()
    data = {**SESSION, **PLAN, **COMMUNITY_CALL, "thread_id": "t1", "synthesis_id": "y1", "adaptation_id": "a1"}
    data["registration_id"] = "r1"
    linked = {t for t in TEMPLATES if page_of(t, data, "someone") is not None}
    assert linked | unlinked == set(TEMPLATES)


def test_every_page_is_one_the_portal_serves_with_its_label_in_both_languages(tmp_path):
    portal = create_app(config(tmp_path, coaching_url=f"http://127.0.0.1:{closed_port()}"))
    routes = portal.url_map.bind("portal.test")
    for template, data, person, _ in EXPECTED:
        page = page_of(template, data, person)
        endpoint, _ = routes.match(page.path, method="GET")  # raises NotFound for a page the portal lacks
        assert endpoint != "static"
        assert all(page.label in LABELS[language] for language in LABELS), page.label

"""Coaching's notices reach the people they concern: a trainer's commitment, a coach's follow-up."""

from __future__ import annotations

from datetime import date

import pytest

from shared.envelope import make_event
from shared.events import CATALOGUE
from shared.messaging.topology import SUBSCRIPTIONS
from tests.notifications.conftest import add_contact

COACHING_NOTICES = (
    "coaching.plan.created",
    "coaching.plan.specialist_assigned",
    "coaching.commitment.due_soon",
    "coaching.commitment.overdue",
    "coaching.commitment.fulfilled",
    "coaching.followup.due",
)


def text_of(message) -> str:
    """The plain-text part, its lines joined as a reader reads them."""
    return " ".join(message.get_body(("plain",)).get_content().split())


def commitment_event(kind: str, **extra):
    data = {
        "commitment_id": "commitment-1",
        "plan_id": "plan-1",
        "trainer": "ana",
        "specialist": "sam",
        "due_on": date(2027, 2, 28).isoformat(),
        "status": kind,
        "days_before": 30 if kind == "due_soon" else None,
        **extra,
    }
    return make_event(
        f"coaching.commitment.{kind}", source="/services/coaching", subject="commitment-1", tenant="CA", data=data
    )


def test_notifications_subscribes_to_every_coaching_notice_it_has_a_template_for():
    notified = {t for s in SUBSCRIPTIONS if s.consumer == "notifications" for t in s.event_types}
    assert set(COACHING_NOTICES) <= notified
    assert set(COACHING_NOTICES) <= set(CATALOGUE)


def test_a_commitment_due_soon_tells_the_trainer_in_their_language(notifications_ctx, deliver, smtp_server):
    add_contact(notifications_ctx, "ana", "ana@example.org", language="es")
    add_contact(notifications_ctx, "sam", "sam@example.org")

    deliver.event(commitment_event("due_soon"))
    deliver.send()

    [message] = smtp_server.to("ana@example.org")
    assert message["Subject"] == "Se acerca: impartir la formación en su comunidad"
    assert "antes del domingo 28 de febrero de 2027." in text_of(message)
    assert smtp_server.to("sam@example.org") == []  # due soon is the trainer's own reminder


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_an_overdue_commitment_tells_the_trainer_and_their_specialist_who_it_is_once(
    notifications_ctx, deliver, smtp_server, database
):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    add_contact(notifications_ctx, "sam", "sam@example.org")
    deliver.event(plan_opened(trainer="ana", trainer_name="Ana López", specialist="sam", specialist_name="Sam"))
    event = commitment_event("overdue")

    deliver.event(event)
    deliver.event(event)  # redelivered
    deliver.send()

    [to_ana] = [m for m in smtp_server.to("ana@example.org") if m["Subject"].startswith("Overdue")]
    assert to_ana["Subject"] == "Overdue: delivering the training in your community"
    assert "was due Sunday, February 28, 2027 and" in text_of(to_ana)
    [to_sam] = [m for m in smtp_server.to("sam@example.org") if m["Subject"].startswith("Overdue")]
    assert to_sam["Subject"] == "Overdue: Ana López's commitment to deliver the training"
    assert "Ana López's commitment to deliver the training in their community was due Sunday" in text_of(to_sam)


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_a_fulfilled_commitment_tells_the_trainer_and_their_specialist_once(
    notifications_ctx, deliver, smtp_server, database
):
    add_contact(notifications_ctx, "ana", "ana@example.org", language="es")
    add_contact(notifications_ctx, "sam", "sam@example.org")
    add_contact(notifications_ctx, "ben", "ben@example.org")
    deliver.event(plan_opened(trainer="ana", trainer_name="Ana López", specialist="sam", specialist_name="Sam"))
    # A later plan event without the name (published before events carried it) keeps the name known.
    deliver.event(
        plan_event(
            "coaching.plan.specialist_assigned",
            plan_id="plan-1",
            trainer="ana",
            trainer_name=None,
            specialist="sam",
            specialist_name="Sam",
            previous_specialist="rosa",
            due_on="2027-02-28",
        )
    )
    event = commitment_event("fulfilled", status="fulfilled", fulfilled_on="2027-01-20")
    deliver.event(event)
    deliver.event(event)  # redelivered
    # A trainer no plan event named: the specialist reads their user id.
    deliver.event(
        make_event(
            "coaching.commitment.fulfilled",
            source="/services/coaching",
            subject="commitment-2",
            tenant="CA",
            data={**event.data, "commitment_id": "commitment-2", "trainer": "ben", "status": "fulfilled"},
        )
    )
    deliver.send()

    [to_ana] = [m for m in smtp_server.to("ana@example.org") if m["Subject"].startswith("Cumplido")]
    assert to_ana["Subject"] == "Cumplido: impartir la formación en su comunidad"
    assert "la completó el miércoles 20 de enero de 2027 (vencía el domingo 28 de febrero de 2027)" in text_of(to_ana)
    fulfilled = [m for m in smtp_server.to("sam@example.org") if m["Subject"].startswith("Delivered")]
    assert sorted(m["Subject"] for m in fulfilled) == [
        "Delivered: Ana López fulfilled their commitment",
        "Delivered: ben fulfilled their commitment",
    ]
    text = text_of(next(m for m in fulfilled if "Ana" in m["Subject"]))
    assert "Ana López delivered the training in their community: the delivery was completed on Wednesday" in text
    [to_ben] = smtp_server.to("ben@example.org")
    assert to_ben["Subject"] == "Fulfilled: delivering the training in your community"


def test_a_follow_up_due_tells_whoever_set_it(notifications_ctx, deliver, smtp_server):
    add_contact(notifications_ctx, "sam", "sam@example.org")
    deliver.event(
        make_event(
            "coaching.followup.due",
            source="/services/coaching",
            subject="activity-1",
            tenant="CA",
            data={"activity_id": "activity-1", "trainer": "ana", "author": "sam", "follow_up_on": "2027-01-15"},
        )
    )
    deliver.send()

    [message] = smtp_server.to("sam@example.org")
    assert message["Subject"] == "Follow-up due: your follow-up with ana"  # no plan event named her
    assert "is due Friday, January 15, 2027." in text_of(message)


def test_a_follow_up_due_names_the_trainer_as_their_plan_did(notifications_ctx, deliver, smtp_server):
    add_contact(notifications_ctx, "sam", "sam@example.org")
    deliver.event(plan_opened(trainer="ana", trainer_name="Ana López", specialist="rosa", specialist_name="Rosa"))
    data = {"activity_id": "activity-1", "trainer": "ana", "author": "sam", "follow_up_on": "2027-01-15"}
    deliver.event(
        make_event("coaching.followup.due", source="/services/coaching", subject="activity-1", tenant="CA", data=data)
    )
    deliver.send()

    [message] = smtp_server.to("sam@example.org")
    assert message["Subject"] == "Follow-up due: your follow-up with Ana López"


def plan_event(event_type: str, **data):
    return make_event(event_type, source="/services/coaching", subject="plan-1", tenant="CA", data=data)


def test_a_plan_opened_tells_the_trainer_who_supports_them_and_the_specialist_who_joined_their_caseload(
    notifications_ctx, deliver, smtp_server
):
    add_contact(notifications_ctx, "ana", "ana@example.org", language="es")
    add_contact(notifications_ctx, "sam", "sam@example.org")
    event = plan_event(
        "coaching.plan.created",
        plan_id="plan-1",
        commitment_id="commitment-1",
        trainer="ana",
        trainer_name="Ana López",
        specialist="sam",
        specialist_name="Sam Specialist",
        series_id="series-1",
        cohort_id="cohort-1",
        registration_id="registration-1",
        completed_at="2026-08-31T17:00:00+00:00",
        due_on="2027-02-28",
        time_frame_months=6,
    )
    deliver.event(event)
    deliver.event(event)  # redelivered: still one message each
    deliver.send()

    [to_ana] = smtp_server.to("ana@example.org")
    assert to_ana["Subject"] == "Su plan de implementación"
    assert "antes del domingo 28 de febrero de 2027. Sam Specialist, su especialista" in text_of(to_ana)
    # The completion's own e-mail congratulates her (training_completed); this one is about the commitment.
    assert "Ahora que completó la formación de formadores, su plan de implementación está abierto" in text_of(to_ana)
    assert "Felicitaciones" not in text_of(to_ana)
    [to_sam] = smtp_server.to("sam@example.org")
    assert to_sam["Subject"] == "A new trainer to support: Ana López"
    assert "Ana López completed the training for trainers and is now in your caseload." in text_of(to_sam)
    assert "by Sunday, February 28, 2027" in text_of(to_sam)
    assert "My commitment" not in text_of(to_sam)  # the trainer's page, not theirs


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_the_names_coachings_and_contents_events_give_greet_people_who_had_none(
    notifications_ctx, deliver, smtp_server, nclient, tokens, database
):
    """A specialist's contact point often comes from a state system with an address only: the plan event naming
    them gives it a name to greet them by; a name already held (a registration's) is kept."""
    add_contact(notifications_ctx, "ana", "ana@example.org", name="Ana María López")
    add_contact(notifications_ctx, "sam", "sam@example.org")
    add_contact(notifications_ctx, "rosa", "rosa@example.org")
    deliver.event(plan_opened(trainer="ana", trainer_name="Ana López", specialist="sam", specialist_name="Sam Ortiz"))
    deliver.event(
        make_event(
            "content.adaptation.reviewed",
            source="/services/content",
            subject="adaptation-1",
            tenant="CA",
            data={
                "adaptation_id": "adaptation-1",
                "module_id": "module-3",
                "facilitator": "ana",
                "reviewer": "rosa",
                "reviewer_name": "Rosa Díaz",
                "revision": 1,
                "decision": "approved",
                "comments": "",
            },
        )
    )
    deliver.send()
    [to_sam] = smtp_server.to("sam@example.org")
    assert text_of(to_sam).startswith("Hello Sam Ortiz, ")
    assert text_of(smtp_server.to("ana@example.org")[0]).startswith("Hello Ana María López, ")
    admin = tokens.headers("jurisdiction_admin", "CA")
    names = {p: nclient.get(f"/contact-points/{p}", headers=admin).json["name"] for p in ("ana", "sam", "rosa")}
    assert names == {"ana": "Ana María López", "sam": "Sam Ortiz", "rosa": "Rosa Díaz"}


def test_another_specialist_assigned_tells_the_trainer_and_the_new_specialist_only(
    notifications_ctx, deliver, smtp_server
):
    for person, address in (("ana", "ana@example.org"), ("sam", "sam@example.org"), ("rosa", "rosa@example.org")):
        add_contact(notifications_ctx, person, address)
    deliver.event(
        plan_event(
            "coaching.plan.specialist_assigned",
            plan_id="plan-1",
            trainer="ana",
            trainer_name=None,  # a plan opened before completions carried names: the trainer's id stands in
            specialist="rosa",
            specialist_name="Rosa Reyes",
            previous_specialist="sam",
            due_on="2027-02-28",
        )
    )
    deliver.send()

    [to_ana] = smtp_server.to("ana@example.org")
    assert to_ana["Subject"] == "Your specialist: Rosa Reyes"
    assert "Rosa Reyes now supports you in delivering the training in your community by Sunday" in text_of(to_ana)
    [to_rosa] = smtp_server.to("rosa@example.org")
    assert to_rosa["Subject"] == "Now in your caseload: ana"
    assert smtp_server.to("sam@example.org") == []


def test_with_the_portals_address_each_email_to_a_person_links_to_my_emails(
    notifications_ctx, smtp_server, monkeypatch
):
    import dataclasses

    from services.notifications.config import NotificationsConfig
    from services.notifications.use_cases.notify import Notifier
    from tests.notifications.conftest import Deliver

    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.org/")
    assert NotificationsConfig.from_env().portal_url == "https://portal.example.org"
    config = dataclasses.replace(notifications_ctx.config, portal_url="https://portal.example.org")
    notifications_ctx.extra["notifier"] = Notifier(config)
    deliver = Deliver(notifications_ctx)
    add_contact(notifications_ctx, "ana", "ana@example.org", language="es")

    deliver.event(commitment_event("due_soon"))
    deliver.send()

    [message] = smtp_server.to("ana@example.org")
    unsubscribe = message["List-Unsubscribe"].strip()[1:-1]
    assert text_of(message).endswith(
        f"Elija sus mensajes: https://portal.example.org/my/notifications "
        f"Dejar de recibir correos como este: {unsubscribe}"
    )
    html = message.get_body(("html",)).get_content()
    assert '<a href="https://portal.example.org/my/notifications" style="color:#2f6f5e;">Elija sus mensajes</a>' in html


def test_without_the_portals_address_no_email_links_anywhere(notifications_ctx, deliver, smtp_server):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    deliver.event(commitment_event("due_soon"))
    deliver.send()
    [message] = smtp_server.to("ana@example.org")
    assert "/my/notifications" not in text_of(message)
    assert "/my/notifications" not in message.get_body(("html",)).get_content()


def plan_opened(**data):
    return plan_event(
        "coaching.plan.created",
        plan_id="plan-1",
        commitment_id="commitment-1",
        series_id="series-1",
        cohort_id="cohort-1",
        registration_id="registration-1",
        completed_at="2026-08-31T17:00:00+00:00",
        due_on="2027-02-28",
        time_frame_months=6,
        **data,
    )


def adaptation_submitted(facilitator: str = "ana", revision: int = 1, **extra):
    data = {
        "adaptation_id": "adaptation-1",
        "module_id": "module-3",
        "module_position": 3,
        "module_title": "Primary caregiving",
        "title": "Evening cohorts",
        "facilitator": facilitator,
        "facilitator_name": "Ana López",
        "revision": revision,
        "components": {"Key concepts": "kept", "Learning activities": "adapted", "Worksheet": "dropped"},
        **extra,
    }
    return make_event(
        "content.adaptation.submitted", source="/services/content", subject="adaptation-1", tenant="CA", data=data
    )


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_an_adaptation_a_trainer_submits_reaches_the_specialist_coaching_last_named_for_them(
    notifications_ctx, deliver, smtp_server, database
):
    import dataclasses
    from datetime import UTC, datetime, timedelta

    for person, address, language in (("ana", "ana@example.org", "en"), ("sam", "sam@example.org", "es")):
        add_contact(notifications_ctx, person, address, language=language)
    add_contact(notifications_ctx, "rosa", "rosa@example.org")
    # Nobody supports her yet: her submission waits in the review queue, no e-mail.
    opened_at = datetime(2026, 9, 1, tzinfo=UTC)
    deliver.event(dataclasses.replace(adaptation_submitted(), time=opened_at - timedelta(days=1)))
    opened = plan_opened(trainer="ana", specialist="sam")
    deliver.event(dataclasses.replace(opened, time=opened_at))
    deliver.event(adaptation_submitted(revision=2, adaptation_id="adaptation-2"))
    deliver.send()

    [to_sam] = smtp_server.to("sam@example.org")[-1:]
    assert to_sam["Subject"] == "Adaptación por revisar: Evening cohorts"
    text = text_of(to_sam)
    assert "Ana López envió la versión 2 de una adaptación del módulo 3, Primary caregiving" in text
    assert "2 componentes esenciales adaptados u omitidos" in text
    assert not [m for m in smtp_server.to("ana@example.org") if "revisar" in m["Subject"] or "review" in m["Subject"]]

    # An admin assigns Rosa; a late copy of the older plan event does not undo it.
    assigned = plan_event(
        "coaching.plan.specialist_assigned",
        plan_id="plan-1",
        trainer="ana",
        specialist="rosa",
        previous_specialist="sam",
        due_on="2027-02-28",
    )
    deliver.event(dataclasses.replace(assigned, time=opened_at + timedelta(days=30)))
    deliver.event(dataclasses.replace(plan_opened(trainer="ana", specialist="sam"), time=opened_at))
    deliver.event(adaptation_submitted(revision=3, adaptation_id="adaptation-3"))
    deliver.send()
    to_rosa = [m for m in smtp_server.to("rosa@example.org") if m["Subject"].startswith("Adaptation to review")]
    assert [m["Subject"] for m in to_rosa] == ["Adaptation to review: Evening cohorts"]
    assert "Ana López submitted revision 3 of an adaptation of module 3, Primary caregiving" in text_of(to_rosa[0])
    assert len([m for m in smtp_server.to("sam@example.org") if "revisar" in m["Subject"]]) == 1


def test_a_reviewed_adaptation_names_its_reviewer_to_the_facilitator(notifications_ctx, deliver, smtp_server):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    data = {
        "adaptation_id": "adaptation-1",
        "module_id": "module-3",
        "facilitator": "ana",
        "reviewer": "sam",
        "reviewer_name": "Sam Specialist",
        "revision": 1,
        "decision": "changes_requested",
        "comments": "Keep the debrief.",
    }
    deliver.event(
        make_event(
            "content.adaptation.reviewed", source="/services/content", subject="adaptation-1", tenant="CA", data=data
        )
    )
    deliver.send()
    [message] = smtp_server.to("ana@example.org")
    assert "Sam Specialist reviewed revision 1 of your adaptation and asks for changes" in text_of(message)


def default_specialist_changed(specialist: str | None, at, tenant: str = "CA"):
    import dataclasses

    event = make_event(
        "coaching.default_specialist.changed",
        source="/services/coaching",
        subject=tenant,
        tenant=tenant,
        data={"default_specialist": specialist, "default_specialist_name": None},
    )
    return dataclasses.replace(event, time=at)


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_an_adaptation_whose_facilitator_has_no_specialist_reaches_the_jurisdictions_default_specialist(
    notifications_ctx, deliver, smtp_server, database
):
    import dataclasses
    from datetime import UTC, datetime, timedelta

    for person, address in (("ana", "ana@example.org"), ("ben", "ben@example.org"), ("sam", "sam@example.org")):
        add_contact(notifications_ctx, person, address)
    add_contact(notifications_ctx, "rosa", "rosa@example.org", language="es")
    add_contact(notifications_ctx, "tex", "tex@example.org", tenant="TX")
    chosen_at = datetime(2026, 9, 1, tzinfo=UTC)

    def to_review(address: str) -> list:
        return [m for m in smtp_server.to(address) if "review" in m["Subject"] or "revisar" in m["Subject"]]

    # Ana was trained before the platform: no plan, no specialist. With no default either, nobody hears.
    deliver.event(dataclasses.replace(adaptation_submitted(), time=chosen_at - timedelta(days=2)))
    deliver.event(default_specialist_changed("tex", chosen_at, tenant="TX"))  # Texas's default is Texas's
    deliver.event(default_specialist_changed("rosa", chosen_at))
    deliver.event(default_specialist_changed(None, chosen_at - timedelta(days=1)))  # older, arriving late
    deliver.event(adaptation_submitted(revision=2, adaptation_id="adaptation-2"))
    deliver.send()
    [to_rosa] = to_review("rosa@example.org")
    assert to_rosa["Subject"] == "Adaptación por revisar: Evening cohorts"
    assert (
        "Ana López aún no tiene en el programa un especialista en bebés y niños pequeños propio, así que usted lo "
        "recibe como especialista predeterminado de su jurisdicción." in text_of(to_rosa)
    )
    assert "Ana López envió la versión 2 de una adaptación" in text_of(to_rosa)
    assert to_review("tex@example.org") == [] and to_review("ana@example.org") == []

    # Ben has a plan: his own specialist hears, and reads no word of a default.
    deliver.event(plan_opened(trainer="ben", specialist="sam"))
    deliver.event(adaptation_submitted(facilitator="ben", facilitator_name="Ben Ortiz", adaptation_id="adaptation-3"))
    deliver.send()
    [to_sam] = to_review("sam@example.org")
    assert "Ben Ortiz submitted an adaptation of module 3" in text_of(to_sam)
    assert "default" not in text_of(to_sam)
    assert len(to_review("rosa@example.org")) == 1

    # The default withdrawn (a newer event naming nobody): Ana's next revision waits in the review queue.
    deliver.event(default_specialist_changed(None, chosen_at + timedelta(days=30)))
    deliver.event(adaptation_submitted(revision=3, adaptation_id="adaptation-4"))
    deliver.send()
    assert (len(to_review("rosa@example.org")), len(to_review("sam@example.org"))) == (1, 1)


def unheard(ctx) -> list[str]:
    """The adaptations notifications keeps because nobody was known to review them."""
    from sqlalchemy import select

    from services.notifications.models import UnheardAdaptation

    with ctx.db.session() as session:
        return sorted(session.scalars(select(UnheardAdaptation.event_id)))


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_an_adaptation_handled_before_the_default_specialist_chosen_before_it_still_reaches_that_specialist(
    notifications_ctx, deliver, smtp_server, database
):
    import dataclasses
    from datetime import UTC, datetime, timedelta

    add_contact(notifications_ctx, "rosa", "rosa@example.org")
    add_contact(notifications_ctx, "tex", "tex@example.org", tenant="TX")
    chosen_at = datetime(2026, 9, 1, 15, tzinfo=UTC)

    def to_review(address: str) -> list:
        return [m for m in smtp_server.to(address) if m["Subject"].startswith("Adaptation to review")]

    # Rosa is chosen as the default at 15:00; Ana submits at 15:00:05 and again the next day. Coaching's
    # event is slower to arrive than content's: both adaptations are handled first, and find nobody.
    before = dataclasses.replace(adaptation_submitted(adaptation_id="adaptation-0"), time=chosen_at - timedelta(days=1))
    first = dataclasses.replace(
        adaptation_submitted(adaptation_id="adaptation-1"), time=chosen_at + timedelta(seconds=5)
    )
    second = dataclasses.replace(
        adaptation_submitted(revision=2, adaptation_id="adaptation-1"), time=chosen_at + timedelta(days=1)
    )
    for event in (before, first, second, first):  # the first redelivered
        deliver.event(event)
    deliver.send()
    assert to_review("rosa@example.org") == []
    assert unheard(notifications_ctx) == sorted([before.id, first.id, second.id])

    deliver.event(default_specialist_changed("tex", chosen_at, tenant="TX"))  # Texas's default hears only Texas
    deliver.event(default_specialist_changed("rosa", chosen_at))
    deliver.send()
    told = to_review("rosa@example.org")
    assert [text_of(m).split(" submitted ")[1][:10] for m in told] == ["an adaptat", "revision 2"]
    assert "as your jurisdiction's default specialist" in text_of(told[0])
    assert to_review("tex@example.org") == []
    # The one submitted before Rosa was chosen was never hers: forgotten, as the review queue still lists it.
    assert unheard(notifications_ctx) == []

    # Redelivered, or an older choice arriving late: nobody is told twice.
    deliver.event(default_specialist_changed("rosa", chosen_at))
    deliver.event(default_specialist_changed(None, chosen_at - timedelta(days=3)))
    deliver.send()
    assert len(to_review("rosa@example.org")) == 2


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_an_adaptation_handled_before_the_plan_that_gave_its_trainer_a_specialist_reaches_that_specialist(
    notifications_ctx, deliver, smtp_server, database
):
    import dataclasses
    from datetime import UTC, datetime, timedelta

    add_contact(notifications_ctx, "sam", "sam@example.org")
    opened_at = datetime(2026, 9, 1, 15, tzinfo=UTC)
    submitted = dataclasses.replace(adaptation_submitted(), time=opened_at + timedelta(minutes=2))
    someone_else = dataclasses.replace(
        adaptation_submitted(facilitator="ben", facilitator_name="Ben Ortiz", adaptation_id="adaptation-2"),
        time=opened_at + timedelta(minutes=3),
    )
    deliver.event(submitted)
    deliver.event(someone_else)
    deliver.event(dataclasses.replace(plan_opened(trainer="ana", specialist="sam"), time=opened_at))
    deliver.send()
    [to_sam] = [m for m in smtp_server.to("sam@example.org") if m["Subject"].startswith("Adaptation to review")]
    assert "Ana López submitted an adaptation of module 3" in text_of(to_sam)
    assert "default" not in text_of(to_sam)  # her own specialist
    assert unheard(notifications_ctx) == [someone_else.id]  # Ben's waits for a specialist of his own, or a default


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("first", ["the default specialist", "the adaptation"])
def test_an_adaptation_and_a_default_specialist_handled_at_the_same_moment_reach_each_other(
    notifications_ctx, deliver, smtp_server, database, first
):
    """Two consumers, one transaction each: whichever commits second sees what the first wrote."""
    import dataclasses
    import threading
    from datetime import UTC, datetime, timedelta

    add_contact(notifications_ctx, "rosa", "rosa@example.org")
    chosen_at = datetime(2026, 9, 1, 15, tzinfo=UTC)
    chosen = default_specialist_changed("rosa", chosen_at)
    submitted = dataclasses.replace(adaptation_submitted(), time=chosen_at + timedelta(seconds=1))
    held, other = (chosen, submitted) if first == "the default specialist" else (submitted, chosen)
    queue_of = {chosen.type: "record_default_specialist", submitted.type: "notify"}

    finished = threading.Event()
    with notifications_ctx.db.unit_of_work() as uow:
        deliver.handlers[queue_of[held.type]](held, uow)  # handled, not yet committed
        second = threading.Thread(target=lambda: (deliver.event(other), finished.set()), daemon=True)
        second.start()
        # The second waits for the first (the jurisdiction's specialists are held still), rather than
        # reading before the first commits and writing something the first never sees.
        assert not finished.wait(1.0)
        uow.commit()
    assert finished.wait(30)
    second.join()
    deliver.send()
    [told] = [m for m in smtp_server.to("rosa@example.org") if m["Subject"].startswith("Adaptation to review")]
    assert "Ana López submitted an adaptation of module 3" in text_of(told)
    assert unheard(notifications_ctx) == []


def test_a_jurisdiction_that_never_names_a_specialist_keeps_a_month_of_unheard_adaptations(notifications_ctx, deliver):
    import dataclasses
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 9, 1, tzinfo=UTC)
    kept = []
    for days in (0, 20, 45):
        event = dataclasses.replace(
            adaptation_submitted(adaptation_id=f"adaptation-{days}"), time=start + timedelta(days)
        )
        deliver.event(event)
        kept.append(event.id)
    # The one submitted 45 days after the first drops those more than 30 days older than itself.
    assert unheard(notifications_ctx) == sorted(kept[1:])

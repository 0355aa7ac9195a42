"""Plans and commitments: opened by a completion, specialists assigned, time frames agreed, deliveries seen."""

from __future__ import annotations

from datetime import date, datetime

from services.coaching import events
from services.coaching import repository as repo
from services.coaching.domain import commitments as rules
from services.coaching.models import Commitment, DeliverySession, JurisdictionSettings, Plan, TrainerSeries
from services.coaching.use_cases import Listing
from shared.auth import JURISDICTION_ADMIN, Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound


def open_plan(session, completion: dict, *, tenant: str, opened_by: str) -> Plan | None:
    """Open the trainer's plan and commitment for a completion of the training for trainers, once.

    ``completion`` is the data of ``scheduling.participant.completed`` (or the same read back from
    scheduling's API by the backfill). A completion already seen, by either path, opens nothing new;
    one of another series opens nothing at all, and one whose plan has no name yet names it. The caller
    commits.
    """
    if not repo.is_trainer_series(session, completion["series_id"]):
        return None
    existing = repo.plan_of_registration(session, tenant, completion["registration_id"])
    if existing is not None:
        # Plans opened before completions carried a name get it from the backfill (or a redelivery).
        if existing.trainer_name is None and completion.get("participant_name"):
            existing.trainer_name = completion["participant_name"]
            _touch(existing)
        return None
    settings = repo.settings_of(session, tenant)
    months = settings.default_time_frame_months if settings else rules.DEFAULT_TIME_FRAME_MONTHS
    completed_at: datetime = completion["completed_at"]
    # The default, unless withdrawn since it was set: then the plan waits among the trainers without a
    # specialist (``GET /caseload?unassigned=true``) for an admin to assign one.
    specialist, default = default_specialist(session, tenant, settings)
    plan = Plan(
        tenant=tenant,
        trainer=completion["participant"],
        trainer_name=completion.get("participant_name") or None,
        registry_id=completion.get("registry_id"),
        specialist=specialist,
        series_id=completion["series_id"],
        cohort_id=completion["cohort_id"],
        registration_id=completion["registration_id"],
        completed_at=completed_at,
        certificate_code=completion.get("certificate_code"),
        opened_by=opened_by,
    )
    commitment = Commitment(
        plan=plan,
        tenant=tenant,
        trainer=plan.trainer,
        time_frame_months=months,
        due_on=rules.due_date(rules.completion_day(completed_at, repo.time_zone_of(session, tenant)), months),
        agreed_by=[],
    )
    session.add_all([plan, commitment])
    session.flush()
    events.plan_created(session, plan, commitment, default.name if default is not None else None)
    return plan


def list_plans(who: Principal, args: dict, today: date) -> Listing:
    """The jurisdiction's plans (a trainer: their own), by last change, each with its status as of ``today``."""
    return Listing(
        repo.plans_statement(who, trainer=args.get("trainer"), specialist=args.get("specialist")),
        order_by=(Plan.updated_at, Plan.id),
        updated_column=Plan.updated_at,
        change_column=Plan.change,
        present=lambda plans: with_status(plans, today),
    )


def show_plan(session, plan_id: str, who: Principal, today: date) -> Plan:
    """A plan with its commitment and the commitment's status as of ``today``."""
    return _with_status(repo.get_plan(session, plan_id, who), today)


def assign_specialist(plan_id: str, specialist: str, uow: UnitOfWork, who: Principal, today: date) -> Plan:
    """A jurisdiction admin changes the Infant/Toddler Specialist who supports this trainer."""
    plan = repo.get_plan(uow.session, plan_id, who, for_update=True)
    previous = plan.specialist
    if specialist != previous:
        known = _known_specialist(uow.session, who.tenant, specialist)
        _refuse_withdrawn(known, "specialist")
        plan.specialist = specialist
        events.specialist_assigned(uow.session, plan, known.name if known is not None else None, previous)
    uow.commit()
    return _with_status(repo.reread_specialist_name(uow.session, plan), today)


def agree_time_frame(plan_id: str, data: dict, uow: UnitOfWork, who: Principal, today: date) -> Plan:
    """Record the time frame the participant, the specialist and the jurisdiction or host agency agreed on."""
    plan = repo.get_plan(uow.session, plan_id, who, for_update=True)
    _check_supporter(plan, who)
    commitment = plan.commitment
    if commitment.fulfilled_on is not None:
        raise Conflict("The commitment is already fulfilled; its time frame no longer changes.")
    parties = {entry["party"] for entry in data["agreed_by"]}
    missing = {"participant", "specialist"} - parties
    if missing or not parties & {"jurisdiction", "host_agency"}:
        raise InvalidInput(
            "A time frame is agreed by the participant, the specialist, and the jurisdiction or host agency.",
            errors={"agreed_by": ["Name the participant, the specialist, and the jurisdiction or host agency."]},
        )
    commitment.time_frame_months = data["months"]
    completed_on = rules.completion_day(plan.completed_at, repo.time_zone_of(uow.session, plan.tenant))
    commitment.due_on = rules.due_date(completed_on, data["months"])
    commitment.agreed_by = [{"party": e["party"], "name": e["name"]} for e in data["agreed_by"]]
    commitment.agreed_on = data["agreed_on"]
    commitment.agreement_recorded_by = who.sub
    _touch(plan)
    uow.commit()
    return _with_status(plan, today)


def record_delivery(plan_id: str, data: dict, uow: UnitOfWork, who: Principal, today: date) -> Plan:
    """Fulfil the commitment by hand, with evidence of the delivery (when scheduling has no record of it)."""
    plan = repo.get_plan(uow.session, plan_id, who, for_update=True)
    _check_supporter(plan, who)
    commitment = plan.commitment
    if commitment.fulfilled_on is not None:
        raise Conflict("The commitment is already fulfilled.")
    commitment.fulfilled_on = data["delivered_on"]
    commitment.fulfilled_by = "evidence"
    commitment.evidence = data["evidence"]
    commitment.evidence_recorded_by = who.sub
    commitment.delivery_completed_at = commitment.delivery_completed_at or utcnow()
    _touch(plan)
    events.commitment_notice(uow.session, commitment, plan.specialist, rules.FULFILLED)
    uow.commit()
    return _with_status(plan, today)


def _check_supporter(plan: Plan, who: Principal) -> None:
    if not (who.has(JURISDICTION_ADMIN) or who.sub == plan.specialist):
        raise Forbidden("Only the trainer's specialist or the jurisdiction admin may do this.")


def follow_delivery(session, tenant: str, data: dict, *, held_at: datetime | None = None) -> None:
    """Keep a session scheduling told of, and move its facilitators' commitments along (the caller commits).

    A session with a facilitator who has an open commitment counts toward that commitment's delivery:
    scheduled once a session is scheduled, first session held once attendance is first taken, and
    fulfilled when every session of the cohort not cancelled has been held.
    """
    row = repo.delivery_session(session, data["session_id"])
    if row is None:
        row = DeliverySession(
            session_id=data["session_id"],
            tenant=tenant,
            cohort_id=data["cohort_id"],
            series_id=data.get("series_id", ""),
            facilitators=list(data.get("facilitators", [])),
            starts_at=data.get("starts_at") or held_at,
            cancelled=False,
            sequence=-1,
            reached=[],
        )
        session.add(row)
    if "sequence" in data and data["sequence"] >= row.sequence:
        # Rescheduling and cancelling come in order of their sequence; an older one changes nothing.
        row.sequence = data["sequence"]
        row.facilitators = list(data["facilitators"])
        row.starts_at = data["starts_at"]
        row.series_id = data["series_id"]
        row.cancelled = data.get("cancelled", False)
    if held_at is not None:
        row.held_at = row.held_at or held_at
        participant = data.get("participant")
        if participant and data.get("present") and participant not in row.reached:
            row.reached = [*row.reached, participant]
    session.flush()
    _progress(session, tenant, row.cohort_id)


def _progress(session, tenant: str, cohort_id: str) -> None:
    sessions = repo.sessions_of_cohort(session, tenant, cohort_id)
    facilitators = sorted({f for s in sessions if not s.cancelled for f in s.facilitators})
    if not facilitators:
        return
    progress = rules.delivery_progress(
        [{"starts_at": s.starts_at, "cancelled": s.cancelled, "held_at": s.held_at} for s in sessions]
    )
    for commitment in repo.open_commitments_of(session, tenant, facilitators):
        plan = commitment.plan
        before = (commitment.delivery_scheduled_at, commitment.first_session_held_at, commitment.fulfilled_on)
        if progress["scheduled"] and commitment.delivery_scheduled_at is None:
            commitment.delivery_scheduled_at = utcnow()
        if progress["first_held_at"] is not None and commitment.first_session_held_at is None:
            commitment.first_session_held_at = progress["first_held_at"]
        if progress["completed_at"] is not None:
            commitment.delivery_completed_at = progress["completed_at"]
            commitment.fulfilled_on = progress["completed_at"].date()
            commitment.fulfilled_by = "cohort"
            commitment.delivery_cohort_id = cohort_id
            events.commitment_notice(session, commitment, plan.specialist, rules.FULFILLED)
        if (commitment.delivery_scheduled_at, commitment.first_session_held_at, commitment.fulfilled_on) != before:
            _touch(plan)


def change_settings(data: dict, uow: UnitOfWork, who: Principal) -> JurisdictionSettings:
    """A jurisdiction admin sets the default specialist and time frame of new plans, and consent."""
    session = uow.session
    settings = repo.settings_of(session, who.tenant, for_update=True)
    if settings is None:
        settings = JurisdictionSettings(tenant=who.tenant, default_time_frame_months=rules.DEFAULT_TIME_FRAME_MONTHS)
        session.add(settings)
    chosen = data.get("default_specialist")
    if chosen and chosen != settings.default_specialist:
        _refuse_withdrawn(_known_specialist(session, who.tenant, chosen), "default_specialist")
    before = default_specialist(session, who.tenant, settings)[0]
    for name in ("default_specialist", "default_time_frame_months"):
        if name in data:
            setattr(settings, name, data[name])
    settings.updated_by = who.sub
    announce_default_specialist(session, who.tenant, before, settings)
    uow.commit()
    return settings


def settings_for(session, tenant: str) -> JurisdictionSettings:
    return repo.settings_of(session, tenant) or JurisdictionSettings(
        tenant=tenant, default_time_frame_months=rules.DEFAULT_TIME_FRAME_MONTHS, national_consent=False
    )


def trainer_series(session) -> dict:
    """The series whose completion opens a plan (the training for trainers)."""
    return {"items": repo.trainer_series(session)}


def add_trainer_series(series_id: str, uow: UnitOfWork, who: Principal) -> TrainerSeries:
    """A national admin names a series of content's as the training for trainers (idempotent)."""
    if len(series_id) > 36:  # longer than any series id content gives
        raise NotFound("No such series.")
    row = uow.session.get(TrainerSeries, series_id)
    if row is None:
        row = TrainerSeries(series_id=series_id, added_by=who.sub, added_at=utcnow())
        uow.session.add(row)
        uow.commit()
    return row


def default_specialist(session, tenant: str, settings: JurisdictionSettings | None):
    """(sub, entry) of whom the jurisdiction's new plans get as their specialist: its ``settings``' default (None
    when it has none), unless withdrawn since it was set; (None, None) for nobody. ``entry`` is their name's
    entry, if coaching knows it."""
    specialist = settings.default_specialist if settings else None
    entry = _known_specialist(session, tenant, specialist)
    if entry is not None and entry.withdrawn_at is not None:
        return None, None
    return specialist, entry


def announce_default_specialist(
    session, tenant: str, before: str | None, settings: JurisdictionSettings | None
) -> None:
    """Tell the platform (``coaching.default_specialist.changed``) when whom new plans get is no longer
    ``before``: notifications tells them of adaptations whose facilitator has no specialist of their own."""
    specialist, entry = default_specialist(session, tenant, settings)
    if specialist != before:
        events.default_specialist_changed(session, tenant, specialist, entry.name if entry else None)


def _known_specialist(session, tenant: str, specialist: str | None):
    """The specialist's entry (their name, whether withdrawn); None when none is named or coaching does not
    know them yet (they have not signed in), who may still be assigned."""
    return repo.specialist_entry(session, tenant, specialist) if specialist else None


def _refuse_withdrawn(known, field: str) -> None:
    """A specialist an admin withdrew is not assigned anew."""
    if known is not None and known.withdrawn_at is not None:
        raise InvalidInput(
            f"{known.name} is withdrawn: enter them again (PUT /specialists/{{sub}}) to assign them.",
            errors={field: [f"{known.name} is withdrawn."]},
        )


def _touch(plan: Plan) -> None:
    """A change to a plan's commitment is a change to the plan: it gets a new change marker, so that a
    state system syncing ``/plans`` with ``changed_after`` receives it."""
    plan.updated_at = utcnow()


def with_status(plans: list[Plan], today: date) -> list[Plan]:
    """The plans, each commitment carrying its status as of ``today`` (it moves with the clock, not with writes)."""
    for plan in plans:
        plan.commitment.status = rules.status(plan.commitment.due_on, plan.commitment.fulfilled_on, today)
    return plans


def _with_status(plan: Plan, today: date) -> Plan:
    return with_status([plan], today)[0]


def caseload(session, who: Principal, args: dict, today: date) -> dict:
    """A specialist's trainers, overdue first, then due soon, on track, fulfilled; by due date within each.

    A specialist sees their own caseload; the jurisdiction admin anyone's (``specialist``), and the trainers
    whose plan names no specialist yet (``unassigned``).
    """
    specialist = None if args.get("unassigned") else args.get("specialist") or who.sub
    if specialist != who.sub and not who.has(JURISDICTION_ADMIN):
        raise Forbidden("Specialists see their own caseload.")
    tenant = who.tenant
    items = [
        {
            "trainer": row["plan"].trainer,
            "trainer_name": row["plan"].trainer_name,
            "plan_id": row["plan"].id,
            "status": rules.status(row["commitment"].due_on, row["commitment"].fulfilled_on, today),
            "due_on": row["commitment"].due_on,
            "last_contact": row["last_contact"],
            "next_follow_up": row["next_follow_up"],
        }
        for row in repo.caseload(session, tenant, specialist, today)
    ]
    return {"specialist": specialist, "today": today, "items": items}

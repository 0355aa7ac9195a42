"""Queries and locks, always scoped to the caller's jurisdiction: the only place coaching writes SQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Select, String, and_, case, cast, false, func, literal, select, text, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from services.coaching.domain import commitments as rules
from services.coaching.models import (
    Activity,
    ActivityRevision,
    Commitment,
    ConsentRecord,
    DeliverySession,
    FidelityObservation,
    Jurisdiction,
    JurisdictionSettings,
    NotesAudit,
    Notice,
    Plan,
    SpecialistName,
    TrainerSeries,
)
from shared import people_directory
from shared.auth import COACH, INTEGRATION, JURISDICTION_ADMIN, SPECIALIST, Principal
from shared.db import is_postgres, locking, utcnow
from shared.errors import NotFound
from shared.jurisdictions import jurisdictions

STAFF = (SPECIALIST, COACH, JURISDICTION_ADMIN, INTEGRATION)


def jurisdiction_codes(session: Session) -> list[str]:
    """The code of every Tribe coaching has learnt of."""
    return list(session.scalars(select(Jurisdiction.code)))


# --- settings and the training for trainers -----------------------------------------------------------


def settings_of(session: Session, tenant: str, *, for_update: bool = False) -> JurisdictionSettings | None:
    stmt = select(JurisdictionSettings).where(JurisdictionSettings.tenant == tenant)
    return session.scalars(locking(session, stmt) if for_update else stmt).first()


def is_trainer_series(session: Session, series_id: str) -> bool:
    return session.get(TrainerSeries, series_id) is not None


def trainer_series(session: Session) -> list[TrainerSeries]:
    return list(session.scalars(select(TrainerSeries).order_by(TrainerSeries.added_at)))


# --- plans and commitments ------------------------------------------------------------------------------


def plans_visible(who: Principal):
    """Staff see their jurisdiction's plans; a trainer sees their own; nobody sees another jurisdiction's."""
    clause = Plan.tenant == who.tenant
    if who.has(*STAFF):
        return clause
    return clause & (Plan.trainer == who.sub)


def plans_statement(who: Principal, *, trainer: str | None = None, specialist: str | None = None):
    stmt = select(Plan).where(plans_visible(who)).options(selectinload(Plan.commitment))
    if trainer:
        stmt = stmt.where(Plan.trainer == trainer)
    if specialist:
        stmt = stmt.where(Plan.specialist == specialist)
    return stmt


def reread_specialist_name(session: Session, plan: Plan) -> Plan:
    """The plan with the name of the specialist it names now (after assigning one)."""
    session.refresh(plan, ["specialist_name"])
    return plan


def get_plan(session: Session, plan_id: str, who: Principal, *, for_update: bool = False) -> Plan:
    stmt = select(Plan).where(Plan.id == plan_id, plans_visible(who))
    row = session.scalars(locking(session, stmt) if for_update else stmt).first()
    if row is None:
        raise NotFound("No plan with this id.")
    return row


def plan_of_registration(session: Session, tenant: str, registration_id: str) -> Plan | None:
    return session.scalars(select(Plan).where(Plan.tenant == tenant, Plan.registration_id == registration_id)).first()


def latest_plan_of(session: Session, tenant: str, trainer: str) -> Plan | None:
    stmt = (
        select(Plan)
        .where(Plan.tenant == tenant, Plan.trainer == trainer)
        .order_by(Plan.completed_at.desc(), Plan.id)
        .limit(1)
    )
    return session.scalars(stmt).first()


def open_commitments_of(session: Session, tenant: str, trainers: list[str]) -> list[Commitment]:
    """The trainers' commitments not yet fulfilled, locked: a delivery may fulfil them."""
    stmt = select(Commitment).where(
        Commitment.tenant == tenant, Commitment.trainer.in_(trainers), Commitment.fulfilled_on.is_(None)
    )
    return list(session.scalars(locking(session, stmt)))


def sessions_of_cohort(session: Session, tenant: str, cohort_id: str) -> list[DeliverySession]:
    stmt = select(DeliverySession).where(DeliverySession.tenant == tenant, DeliverySession.cohort_id == cohort_id)
    return list(session.scalars(stmt))


def delivery_session(session: Session, session_id: str) -> DeliverySession | None:
    return session.scalars(
        locking(session, select(DeliverySession).where(DeliverySession.session_id == session_id))
    ).first()


# --- activities -----------------------------------------------------------------------------------------


def activities_visible(who: Principal):
    """Staff see their jurisdiction's activities; a trainer those about them; anyone else none."""
    clause = Activity.tenant == who.tenant
    if who.has(SPECIALIST, COACH, JURISDICTION_ADMIN, INTEGRATION):
        # A draft is its author's work in progress until logged.
        return clause & ((Activity.status == "logged") | ((Activity.status == "draft") & (Activity.author == who.sub)))
    if who.has("facilitator"):
        return clause & (Activity.trainer == who.sub) & (Activity.status == "logged")
    return false()


def activities_statement(who: Principal, *, trainer: str | None = None, status: str | None = None):
    stmt = select(Activity).where(activities_visible(who))
    if trainer:
        stmt = stmt.where(Activity.trainer == trainer)
    if status:
        stmt = stmt.where(Activity.status == status)
    return stmt


def get_activity(session: Session, activity_id: str, who: Principal, *, for_update: bool = False) -> Activity:
    stmt = select(Activity).where(Activity.id == activity_id, activities_visible(who))
    row = session.scalars(locking(session, stmt) if for_update else stmt).first()
    if row is None:
        raise NotFound("No activity with this id.")
    return row


def specialists_of_plans(session: Session, plan_ids: list[str]) -> dict[str, str | None]:
    ids = [p for p in plan_ids if p]
    if not ids:
        return {}
    return dict(session.execute(select(Plan.id, Plan.specialist).where(Plan.id.in_(ids))).all())


def activity_by_booking(session: Session, booking_id: str) -> Activity | None:
    return session.scalars(locking(session, select(Activity).where(Activity.booking_id == booking_id))).first()


def revisions_statement(activity_id: str):
    return select(ActivityRevision).where(ActivityRevision.activity_id == activity_id)


def audit_statement(activity_id: str):
    return select(NotesAudit).where(NotesAudit.activity_id == activity_id)


# --- fidelity -------------------------------------------------------------------------------------------


def observations_statement(who: Principal, *, trainer: str | None = None):
    clause = FidelityObservation.tenant == who.tenant
    if not who.has(*STAFF):
        clause = clause & (FidelityObservation.trainer == who.sub)
    stmt = select(FidelityObservation).where(clause)
    if trainer:
        stmt = stmt.where(FidelityObservation.trainer == trainer)
    return stmt


def scores_of(session: Session, who: Principal, trainer: str) -> list[tuple]:
    stmt = observations_statement(who, trainer=trainer).with_only_columns(
        FidelityObservation.observed_on, FidelityObservation.score
    )
    return [tuple(row) for row in session.execute(stmt).all()]


# --- caseload -------------------------------------------------------------------------------------------


def caseload(session: Session, tenant: str, specialist: str | None, today: date) -> list[dict]:
    """A specialist's trainers (those without one: None): each plan with its commitment, last contact and next
    follow-up, overdue first."""
    last_contact = (
        select(Activity.trainer, func.max(Activity.occurred_on).label("last_contact"))
        .where(Activity.tenant == tenant, Activity.status == "logged")
        .group_by(Activity.trainer)
        .subquery()
    )
    next_follow_up = (
        select(Activity.trainer, func.min(Activity.follow_up_on).label("next_follow_up"))
        .where(Activity.tenant == tenant, Activity.status == "logged", Activity.follow_up_on >= today)
        .group_by(Activity.trainer)
        .subquery()
    )
    soon = date.fromordinal(today.toordinal() + rules.DUE_SOON_DAYS)
    rank = case(
        (Commitment.fulfilled_on.is_not(None), 3),
        (Commitment.due_on < today, 0),
        (Commitment.due_on <= soon, 1),
        else_=2,
    )
    stmt = (
        select(Plan, Commitment, last_contact.c.last_contact, next_follow_up.c.next_follow_up)
        .join(Commitment, Commitment.plan_id == Plan.id)
        .outerjoin(last_contact, last_contact.c.trainer == Plan.trainer)
        .outerjoin(next_follow_up, next_follow_up.c.trainer == Plan.trainer)
        .where(
            Plan.tenant == tenant, Plan.specialist.is_(None) if specialist is None else Plan.specialist == specialist
        )
        .order_by(rank, Commitment.due_on, Plan.trainer, Plan.id)
    )
    return [
        {"plan": plan, "commitment": commitment, "last_contact": last, "next_follow_up": follow}
        for plan, commitment, last, follow in session.execute(stmt).all()
    ]


# --- scheduled checks -----------------------------------------------------------------------------------


def commitments_needing_notice(session: Session, today: date) -> list[tuple[Commitment, str | None]]:
    """Open commitments due within the first reminder's reach (or past due), with their plan's specialist."""
    horizon = date.fromordinal(today.toordinal() + max(rules.REMINDER_DAYS))
    stmt = (
        select(Commitment, Plan.specialist)
        .join(Plan, Plan.id == Commitment.plan_id)
        .where(Commitment.fulfilled_on.is_(None), Commitment.due_on <= horizon, ~_noticed(Commitment.id, "overdue"))
        .order_by(Commitment.due_on, Commitment.id)
    )
    return [(c, s) for c, s in session.execute(stmt).all()]


def followups_due(session: Session, today: date) -> list[Activity]:
    stmt = select(Activity).where(
        Activity.status == "logged",
        Activity.follow_up_on <= today,
        ~_noticed(Activity.id, literal("followup:", String) + cast(Activity.follow_up_on, String)),
    )
    return list(session.scalars(stmt))


def _noticed(subject, kind):
    """The last notice a subject can get has been sent: nothing more to check for it."""
    return select(Notice.id).where(Notice.subject_id == subject, Notice.kind == kind).exists()


def claim_notice(session: Session, subject_id: str, kind: str, tenant: str) -> bool:
    """Record that this notice is being sent; False if it was already (by this run or another, racing one).

    ON CONFLICT DO NOTHING on the (subject, kind) key: a concurrent runner's insert waits for ours to
    commit or roll back, then finds the key taken, so each notice is claimed, and its event staged, once.
    """
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = (
        insert(Notice)
        .values(subject_id=subject_id, kind=kind, tenant=tenant)
        .on_conflict_do_nothing(index_elements=["subject_id", "kind"])
        .returning(Notice.id)
    )
    return session.execute(stmt).first() is not None


# --- reports --------------------------------------------------------------------------------------------


def report_inputs(session: Session, tenants: list[str] | None) -> dict[str, dict]:
    """Per jurisdiction, the plain rows its report is computed from (``tenants`` None: every jurisdiction)."""

    def scoped(stmt, column):
        return stmt if tenants is None else stmt.where(column.in_(tenants))

    out: dict[str, dict] = defaultdict(lambda: {"activities": [], "commitments": [], "scores": []})
    stmt = select(Activity.tenant, Activity.kind, Activity.occurred_on, Activity.duration_minutes).where(
        Activity.status == "logged"
    )
    for tenant, *row in session.execute(scoped(stmt, Activity.tenant)):
        out[tenant]["activities"].append(tuple(row))
    stmt = select(Commitment.tenant, Commitment.due_on, Commitment.fulfilled_on)
    for tenant, *row in session.execute(scoped(stmt, Commitment.tenant)):
        out[tenant]["commitments"].append(tuple(row))
    stmt = select(FidelityObservation.tenant, FidelityObservation.practice, FidelityObservation.score)
    for tenant, *row in session.execute(scoped(stmt, FidelityObservation.tenant)):
        out[tenant]["scores"].append(tuple(row))
    return out


def reach(session: Session, tenants: list[str] | None) -> dict[str, list[dict]]:
    """The cascade per training-for-trainers cohort of each jurisdiction, counted in the database
    (``tenants`` None: every jurisdiction with plans).

    A cohort's graduates are the trainers whose plan it opened. A training they delivered is another
    cohort of the same jurisdiction they facilitate at least one held session of (cancelled sessions
    count for nothing); the people it reached are the distinct participants marked present or partial
    in its held sessions. Each jurisdiction's cohorts come in the order of their ids.
    """

    def scoped(column):
        return () if tenants is None else (column.in_(tenants),)

    held = (
        *scoped(DeliverySession.tenant),
        DeliverySession.cancelled.is_(False),
        DeliverySession.held_at.is_not(None),
    )
    facilitator = _json_elements(session, DeliverySession.facilitators)
    facilitated = (
        select(DeliverySession.tenant, DeliverySession.cohort_id, facilitator.c.value.label("trainer"))
        .join(facilitator, true())
        .where(*held)
        .distinct()
        .cte("facilitated")
    )
    graduates = (
        select(Plan.tenant, Plan.cohort_id, Plan.trainer).where(*scoped(Plan.tenant)).distinct().cte("graduates")
    )
    trainings = (
        select(graduates.c.tenant, graduates.c.cohort_id, facilitated.c.cohort_id.label("training"))
        .join(
            facilitated,
            and_(
                facilitated.c.tenant == graduates.c.tenant,
                facilitated.c.trainer == graduates.c.trainer,
                facilitated.c.cohort_id != graduates.c.cohort_id,
            ),
        )
        .distinct()
        .cte("trainings")
    )
    person = _json_elements(session, DeliverySession.reached)
    reached = (
        select(trainings.c.tenant, trainings.c.cohort_id, person.c.value.label("person"))
        .join(
            DeliverySession,
            and_(DeliverySession.tenant == trainings.c.tenant, DeliverySession.cohort_id == trainings.c.training),
        )
        .join(person, true())
        .where(*held)
        .distinct()
        .subquery("reached")
    )
    per_cohort = (
        select(graduates.c.tenant, graduates.c.cohort_id, func.count().label("graduates"))
        .group_by(graduates.c.tenant, graduates.c.cohort_id)
        .subquery("per_cohort")
    )
    delivered = (
        select(trainings.c.tenant, trainings.c.cohort_id, func.count().label("trainings"))
        .group_by(trainings.c.tenant, trainings.c.cohort_id)
        .subquery("delivered")
    )
    people = (
        select(reached.c.tenant, reached.c.cohort_id, func.count().label("people"))
        .group_by(reached.c.tenant, reached.c.cohort_id)
        .subquery("people")
    )

    def same_cohort(other):
        return and_(other.c.tenant == per_cohort.c.tenant, other.c.cohort_id == per_cohort.c.cohort_id)

    stmt = (
        select(
            per_cohort.c.tenant,
            per_cohort.c.cohort_id,
            per_cohort.c.graduates,
            func.coalesce(delivered.c.trainings, 0),
            func.coalesce(people.c.people, 0),
        )
        .outerjoin(delivered, same_cohort(delivered))
        .outerjoin(people, same_cohort(people))
    )
    if is_postgres(session):
        # The planner takes each JSON list for 100 elements (its guess for any set-returning function),
        # so a national year looks a hundred times its size and PostgreSQL compiles the query with JIT:
        # 0.6 s of compiling for a query of 0.3 s at the full year, the more the larger (make bench,
        # coaching's national reach and its growth). Off for this transaction only: the caller runs this in one.
        session.execute(text("SET LOCAL jit = off"))
    out: dict[str, list[dict]] = defaultdict(list)
    for tenant in tenants or ():
        out[tenant] = []
    for tenant, cohort, graduated, trainings_delivered, reached_count in session.execute(stmt):
        out[tenant].append(
            {
                "cohort_id": cohort,
                "graduates": graduated,
                "trainings_delivered": trainings_delivered,
                "practitioners_reached": reached_count,
            }
        )
    for cohorts in out.values():  # in Python: the database's collation may order ids otherwise
        cohorts.sort(key=lambda c: c["cohort_id"])
    return dict(out)


def _json_elements(session: Session, column):
    """The elements of a JSON list column as text, one row each, named ``value`` (per engine)."""
    if is_postgres(session):
        return func.json_array_elements_text(column).table_valued("value")
    return func.json_each(column).table_valued("value")


def tenants_with_records(session: Session) -> list[str]:
    """Every jurisdiction coaching holds records of, or whose admin has said something about consent."""
    found = set(session.scalars(select(Plan.tenant).distinct()))
    found |= set(session.scalars(select(Activity.tenant).distinct()))
    found |= set(session.scalars(select(JurisdictionSettings.tenant)))
    return sorted(found)


def consenting(session: Session) -> set[str]:
    stmt = select(JurisdictionSettings.tenant).where(JurisdictionSettings.national_consent.is_(True))
    return set(session.scalars(stmt))


def consent_history(session: Session, tenant: str) -> list[ConsentRecord]:
    stmt = select(ConsentRecord).where(ConsentRecord.tenant == tenant).order_by(ConsentRecord.at, ConsentRecord.id)
    return list(session.scalars(stmt))


def activity_rows_statement(tenant: str):
    """A jurisdiction's logged activities, for state systems: never their notes, strengths or next steps."""
    return select(Activity).where(Activity.tenant == tenant, Activity.status == "logged")


def time_zone_of(session: Session, tenant: str) -> str:
    """A jurisdiction's time zone: a Tribe's as scheduling announced it, a state's or territory's from the
    platform's list; UTC for a code neither knows."""
    announced = session.get(Jurisdiction, tenant)
    if announced is not None:
        return announced.default_time_zone
    known = jurisdictions().get(tenant)
    return known.default_time_zone if known is not None else "UTC"


def remember_specialist_name(session: Session, tenant: str, sub: str, name: str, *, reinstate: bool = False) -> None:
    """Keep the name a specialist is known by, offered again if ``reinstate`` (an admin's entry; a sign-in
    only renames). Entered or renamed, they are a change to the plans naming them (``Plan.specialist_name``)."""
    if people_directory.remember_name(session, SpecialistName, tenant, sub, name, reinstate=reinstate):
        session.execute(update(Plan).where(Plan.tenant == tenant, Plan.specialist == sub).values(updated_at=utcnow()))


def specialist_entry(session: Session, tenant: str, sub: str) -> SpecialistName | None:
    """A specialist's entry as the database holds it now (after an upsert, not the session's copy)."""
    return people_directory.entry(session, SpecialistName, tenant, sub)


def withdraw_specialist(session: Session, tenant: str, sub: str) -> SpecialistName | None:
    """No longer offer a specialist (withdrawing twice keeps the first time); None if coaching does not know them."""
    return people_directory.withdraw(session, SpecialistName, tenant, sub)


SPECIALISTS_ORDER = people_directory.order(SpecialistName)


def specialists(who: Principal, filters: dict) -> Select:
    """The caller's jurisdiction's specialists (every jurisdiction's for national staff), filtered as
    ``shared.people_directory.listing`` says. Those withdrawn are left out unless ``include_withdrawn``, or
    named by subject: the plans naming them still do."""
    tenant = None if who.is_national else who.tenant
    return people_directory.listing(SpecialistName, tenant=tenant, filters=filters, withdrawn_when_named=True)

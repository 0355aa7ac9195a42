"""Registrations' locks and reads: the cohort's row lock protocol, and what registering reads under it.

What may run at once is decided by the lock on the cohort row: registrations hold it FOR SHARE, which
many holders share (each claims its own seat, see ``seats``); whatever frees or adds seats holds it
alone (FOR NO KEY UPDATE), so a seat it frees goes to the waitlist before anyone else can claim it.
"""

from __future__ import annotations

import functools

from sqlalchemy import Row, String, and_, any_, bindparam, func, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session as DbSession

from services.scheduling.domain.registrations import WAITLISTED
from services.scheduling.models import Cohort, Registration, RegistrationAudit, RosterImport
from services.scheduling.repository import in_tenant, seats
from shared.auth import Principal
from shared.db import is_postgres, locking
from shared.errors import NotFound


def lock_cohort(db: DbSession, cohort_id: str, who: Principal) -> Cohort:
    """The caller's cohort, locked until commit against registrations and every other seat change.

    PostgreSQL: ``SELECT … FOR NO KEY UPDATE`` on the cohort row. It waits for the registrations in
    flight (which hold the row FOR SHARE) and keeps new ones out until commit, so a seat it frees is
    handed to the waitlist before anyone else can claim it. (NO KEY, unlike plain FOR UPDATE, does not
    block inserts of rows that merely reference the cohort, such as its sessions.) On SQLite, which
    has no row locks, the unit of work holds the database's write lock from its first statement
    (``shared.db``). Another jurisdiction's cohort is a 404.
    """
    cohort = locked_cohort(db, cohort_id, in_tenant(Cohort, who))
    if cohort is None:
        raise NotFound("No cohort with this id.")
    return cohort


def locked_cohort(db: DbSession, cohort_id: str, scope=None) -> Cohort | None:
    """The cohort within ``scope``, locked as ``lock_cohort`` says; None if there is none."""
    stmt = select(Cohort).where(Cohort.id == cohort_id, true() if scope is None else scope)
    cohort = db.scalars(locking(db, stmt, key_share=True).execution_options(populate_existing=True)).first()
    if cohort is not None:
        # Counted in the statement's snapshot, possibly before the lock was granted: read it again when asked.
        db.expire(cohort, ["confirmed_count"])
    return cohort


def cohort_for_registering(
    db: DbSession, cohort_id: str, participant: str, who: Principal
) -> tuple[Row, Registration | None]:
    """What registering checks of the caller's cohort, held FOR SHARE, and the participant's registration.

    FOR SHARE lets any number of registrations of the cohort run at once (each claims its own seat)
    while keeping out whatever frees or adds seats. One round trip and plain columns: this is the
    hot path when a cohort opens. (The cohort comes back as a row with the attributes registering
    reads, not as an entity.)
    """
    statement = _registering_statement(national=who.is_national, postgres=is_postgres(db))
    row = (
        db.connection()
        .execute(statement, {"cohort": cohort_id, "participant": participant, "tenant": who.tenant})
        .first()
    )
    if row is None:
        raise NotFound("No cohort with this id.")
    existing = None
    if row.existing_id is not None:  # registering again after a cancellation: the ORM path
        existing = db.scalars(
            select(Registration).where(Registration.id == row.existing_id).execution_options(populate_existing=True)
        ).one()
    return row, existing


@functools.cache
def _registering_statement(*, national: bool, postgres: bool):
    """The statement of ``cohort_for_registering``, built once per kind of caller and database."""
    cohorts, registrations = Cohort.__table__, Registration.__table__
    statement = (
        select(
            cohorts.c.id,
            cohorts.c.tenant,
            cohorts.c.status,
            cohorts.c.host_agency_id,
            cohorts.c.title,
            cohorts.c.time_zone,
            cohorts.c.registration_opens_at,
            cohorts.c.registration_closes_at,
            cohorts.c.requires_approval,
            registrations.c.id.label("existing_id"),
        )
        .select_from(
            cohorts.outerjoin(
                registrations,
                and_(
                    registrations.c.cohort_id == cohorts.c.id, registrations.c.participant == bindparam("participant")
                ),
            )
        )
        .where(cohorts.c.id == bindparam("cohort"))
    )
    if not national:
        statement = statement.where(cohorts.c.tenant == bindparam("tenant"))
    if postgres:
        statement = statement.with_for_update(read=True, of=cohorts)
    return statement


def lock_registration(db: DbSession, registration_id: str, who: Principal) -> tuple[Cohort, Registration]:
    """A registration of the caller's jurisdiction and its cohort, the cohort locked (see lock_cohort)."""
    cohort_id = db.scalar(
        select(Registration.cohort_id).where(Registration.id == registration_id, in_tenant(Registration, who))
    )
    if cohort_id is None:
        raise NotFound("No registration with this id.")
    cohort = lock_cohort(db, cohort_id, who)
    # Read again under the lock: a concurrent cancel or approval may have changed it meanwhile.
    registration = db.scalars(
        select(Registration).where(Registration.id == registration_id).execution_options(populate_existing=True)
    ).one()
    return cohort, registration


def _arrivals_statement():
    """The cohort, held FOR SHARE as in ``_cohort_for_registering``, which of :participants it has already,
    and whether it has a seat or waitlist spot to give (``seats.availability``)."""
    cohorts, registrations = Cohort.__table__, Registration.__table__
    registered = (
        select(func.array_agg(registrations.c.participant))
        .where(
            registrations.c.cohort_id == cohorts.c.id,
            registrations.c.participant == any_(bindparam("participants", type_=postgresql.ARRAY(String))),
        )
        .scalar_subquery()
    )
    return (
        select(
            cohorts.c.id,
            cohorts.c.tenant,
            cohorts.c.status,
            cohorts.c.title,
            cohorts.c.time_zone,
            cohorts.c.registration_opens_at,
            cohorts.c.registration_closes_at,
            cohorts.c.requires_approval,
            registered.label("registered"),
            *seats.availability(cohorts.c.id),
        )
        .where(cohorts.c.id == bindparam("cohort"))
        .with_for_update(read=True, of=cohorts)
    )


_ARRIVALS_STATEMENT = _arrivals_statement()


def registers_arrivals_together(db: DbSession) -> bool:
    """Whether people arriving at once can be registered in one batch: PostgreSQL only, where its
    statements (``cohort_for_arrivals``, ``seats.claim_spots_for_newcomers``) run."""
    return is_postgres(db)


def cohort_for_arrivals(db: DbSession, cohort_id: str, participants: list[str]) -> Row | None:
    """PostgreSQL: the cohort as ``register_arrivals`` reads it, held FOR SHARE (``_arrivals_statement``)."""
    return db.connection().execute(_ARRIVALS_STATEMENT, {"cohort": cohort_id, "participants": participants}).first()


def head_of_waitlist(db: DbSession, cohort_id: str, count: int) -> list[tuple[int, str]]:
    """The first ``count`` (waitlist position, registration id) of the cohort's waitlist, in its order."""
    rows = db.execute(
        select(Registration.waitlist_position, Registration.id)
        .where(Registration.cohort_id == cohort_id, Registration.status == WAITLISTED)
        .order_by(Registration.waitlist_position, Registration.id)
        .limit(count)
    ).all()
    return [tuple(row) for row in rows]


def registrations_by_id(db: DbSession, ids: list[str]) -> dict[str, Registration]:
    """The registrations of ``ids``, read afresh (what the session held of them is replaced)."""
    return {
        row.id: row
        for row in db.scalars(
            select(Registration).where(Registration.id.in_(ids)).execution_options(populate_existing=True)
        )
    }


def counts_by_status(db: DbSession, cohort_id: str) -> dict[str, int]:
    """How many registrations of the cohort are in each status that has any."""
    return dict(
        db.execute(
            select(Registration.status, func.count())
            .where(Registration.cohort_id == cohort_id)
            .group_by(Registration.status)
        ).all()
    )


def registration_in_tenant(db: DbSession, registration_id: str, who: Principal) -> Registration | None:
    """The registration if it is of the caller's jurisdiction (any for a national admin)."""
    return db.scalars(
        select(Registration).where(Registration.id == registration_id, in_tenant(Registration, who))
    ).first()


def cohort_in_tenant(db: DbSession, cohort_id: str, who: Principal) -> Cohort | None:
    """The cohort if it is of the caller's jurisdiction (any for a national admin)."""
    return db.scalars(select(Cohort).where(Cohort.id == cohort_id, in_tenant(Cohort, who))).first()


# --- lists (statements for ``paginate``) ---------------------------------------------------------


def cohort_registrations(cohort_id: str, status: str | None):
    """A cohort's registrations, of ``status`` if given."""
    stmt = select(Registration).where(Registration.cohort_id == cohort_id)
    return stmt.where(Registration.status == status) if status else stmt


def registrations_of(participant: str, tenant: str, status: str | None):
    """A participant's own registrations in their jurisdiction, of ``status`` if given."""
    stmt = select(Registration).where(Registration.participant == participant, Registration.tenant == tenant)
    return stmt.where(Registration.status == status) if status else stmt


def audit_trail(registration_id: str):
    """Who changed a registration, when and how."""
    return select(RegistrationAudit).where(RegistrationAudit.registration_id == registration_id)


def roster_imported(db: DbSession, cohort_id: str, sha256: str) -> RosterImport | None:
    """The cohort's earlier import of the same file (by its SHA-256), if any."""
    return db.scalars(
        select(RosterImport).where(RosterImport.cohort_id == cohort_id, RosterImport.sha256 == sha256)
    ).first()


def registrations_by_participant(db: DbSession, cohort_id: str) -> dict[str, Registration]:
    """Every registration of the cohort, whatever its status, by participant."""
    return {row.participant: row for row in db.scalars(select(Registration).where(Registration.cohort_id == cohort_id))}

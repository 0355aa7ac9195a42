"""The facilitators' directory: the name each facilitator is known by in a jurisdiction, by subject.

Scheduling knows facilitators by their identity provider's subject. Names come from the facilitators'
own sign-ins (the portal enters them; taking attendance and booking office hours refresh them) and
from jurisdiction admins or state systems for those who have not signed in yet.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session as DbSession

from services.scheduling.models import Cohort, FacilitatorName
from services.scheduling.repository import json_list_contains
from shared import people_directory
from shared.auth import Principal
from shared.db import is_postgres, utcnow


def remember_facilitator_name(db: DbSession, tenant: str, sub: str, name: str, *, reinstate: bool = False) -> None:
    """Keep the name a facilitator is known by, offered again if ``reinstate`` (an admin's entry; a sign-in
    only renames). Entered or renamed, they are a change to the cohorts naming them (``Cohort.facilitator_names``),
    so a state system syncing cohorts with ``changed_after`` reads the new name."""
    if people_directory.remember_name(db, FacilitatorName, tenant, sub, name, reinstate=reinstate):
        db.execute(
            update(Cohort)
            .where(Cohort.tenant == tenant, json_list_contains(Cohort.facilitators, sub, postgres=is_postgres(db)))
            .values(updated_at=utcnow())
        )


def name_facilitators(db: DbSession, cohorts: Iterable[Cohort]) -> None:
    """Read the names of a page of cohorts' facilitators at once, instead of once per cohort."""
    cohorts = list(cohorts)
    wanted = {(c.tenant, sub) for c in cohorts for sub in c.facilitators or []}
    names: dict[tuple[str, str], str] = {}
    for tenant in {tenant for tenant, _ in wanted}:
        subs = sorted(sub for t, sub in wanted if t == tenant)
        names.update({(tenant, sub): name for sub, name in facilitator_names(db, tenant, subs).items()})
    for cohort in cohorts:
        cohort.__dict__["_facilitator_names"] = {
            sub: names[(cohort.tenant, sub)] for sub in cohort.facilitators or [] if (cohort.tenant, sub) in names
        }


def entry(db: DbSession, tenant: str, sub: str) -> FacilitatorName | None:
    """A facilitator's entry as the database holds it now (after an upsert, not the session's copy)."""
    return people_directory.entry(db, FacilitatorName, tenant, sub)


def withdraw(db: DbSession, tenant: str, sub: str) -> FacilitatorName | None:
    """No longer offer a facilitator (withdrawing twice keeps the first time); None if the directory lacks them."""
    return people_directory.withdraw(db, FacilitatorName, tenant, sub)


def facilitator_names(db: DbSession, tenant: str, subs: Iterable[str]) -> dict[str, str]:
    """The known names of these facilitators, by subject (those the directory lacks are left out)."""
    subs = list(subs)
    if not subs:
        return {}
    rows = db.execute(
        select(FacilitatorName.sub, FacilitatorName.name).where(
            FacilitatorName.tenant == tenant, FacilitatorName.sub.in_(subs)
        )
    )
    return dict(rows.all())


DIRECTORY_ORDER = people_directory.order(FacilitatorName)


def directory(who: Principal, filters: dict) -> Select:
    """The caller's jurisdiction's facilitators (every jurisdiction's for a national admin), filtered as
    ``shared.people_directory.listing`` says; those withdrawn only with ``include_withdrawn``."""
    return people_directory.listing(FacilitatorName, tenant=None if who.is_national else who.tenant, filters=filters)

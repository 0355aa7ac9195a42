"""The facilitators' directory: the name each facilitator is known by in a jurisdiction, by subject.

Scheduling knows facilitators by their identity provider's subject. Names come from the facilitators'
own sign-ins (the portal enters them; taking attendance and booking office hours refresh them) and
from jurisdiction admins or state systems for those who have not signed in yet.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as DbSession

from services.scheduling.models import FacilitatorName
from services.scheduling.repository import in_tenant
from shared.auth import Principal
from shared.db import is_postgres, utcnow


def remember_facilitator_name(db: DbSession, tenant: str, sub: str, name: str, *, reinstate: bool = False) -> None:
    """Keep the name a facilitator is known by, offered again if ``reinstate`` (an admin's entry; a sign-in
    only renames); one statement, so concurrent writers never collide on it."""
    insert = (postgresql if is_postgres(db) else sqlite).insert(FacilitatorName)
    statement = insert.values(tenant=tenant, sub=sub, name=name, updated_at=utcnow())
    changed = FacilitatorName.name != statement.excluded.name
    db.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant", "sub"],
            set_={
                "name": statement.excluded.name,
                "updated_at": statement.excluded.updated_at,
                **({"withdrawn_at": None} if reinstate else {}),
            },
            where=or_(changed, FacilitatorName.withdrawn_at.is_not(None)) if reinstate else changed,
        )
    )


def entry(db: DbSession, tenant: str, sub: str) -> FacilitatorName | None:
    """A facilitator's entry as the database holds it now (after an upsert, not the session's copy)."""
    return db.get(FacilitatorName, (tenant, sub), populate_existing=True)


def withdraw(db: DbSession, tenant: str, sub: str) -> FacilitatorName | None:
    """No longer offer a facilitator (withdrawing twice keeps the first time); None if the directory lacks them."""
    db.execute(
        update(FacilitatorName)
        .where(FacilitatorName.tenant == tenant, FacilitatorName.sub == sub, FacilitatorName.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow(), updated_at=utcnow())
    )
    return entry(db, tenant, sub)


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


DIRECTORY_ORDER = (FacilitatorName.name, FacilitatorName.tenant, FacilitatorName.sub)


def directory(who: Principal, filters: dict) -> Select:
    """The caller's jurisdiction's facilitators (every jurisdiction's for a national admin): those of
    ``jurisdiction``, whose name contains ``q`` (any case) and of the subjects ``sub``, where given; those
    withdrawn only with ``include_withdrawn``."""
    name_contains, subs = filters.get("q"), filters.get("sub")
    stmt = select(FacilitatorName).where(in_tenant(FacilitatorName, who))
    if not filters.get("include_withdrawn"):
        stmt = stmt.where(FacilitatorName.withdrawn_at.is_(None))
    if filters.get("jurisdiction"):
        stmt = stmt.where(FacilitatorName.tenant == filters["jurisdiction"].upper())
    if name_contains:
        stmt = stmt.where(FacilitatorName.name.icontains(name_contains, autoescape=True))
    if subs:
        stmt = stmt.where(FacilitatorName.sub.in_(subs))
    return stmt

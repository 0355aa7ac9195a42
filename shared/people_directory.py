"""Directories of people by name, per jurisdiction and subject: scheduling's facilitators, coaching's specialists.

Services know people by their identity provider's subject; forms choose them and pages name them by the
name kept here. A directory's table has ``tenant`` and ``sub`` (its key), ``name``, ``updated_at`` and
``withdrawn_at`` (set while an admin has withdrawn them: forms stop offering them, what names them still
does). Names come from people's own sign-ins (which only rename) and from admins' entries (which also
offer a withdrawn person again).
"""

from __future__ import annotations

from sqlalchemy import Select, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.db import is_postgres, utcnow


def remember_name(db: Session, model, tenant: str, sub: str, name: str, *, reinstate: bool = False) -> bool:
    """Keep the name a person is known by, offered again if ``reinstate``; True if it wrote (entered, renamed
    or offered again). One statement, so concurrent writers never collide on it."""
    insert = (postgresql if is_postgres(db) else sqlite).insert(model)
    statement = insert.values(tenant=tenant, sub=sub, name=name, updated_at=utcnow())
    changed = model.name != statement.excluded.name
    written = db.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant", "sub"],
            set_={
                "name": statement.excluded.name,
                "updated_at": statement.excluded.updated_at,
                **({"withdrawn_at": None} if reinstate else {}),
            },
            where=or_(changed, model.withdrawn_at.is_not(None)) if reinstate else changed,
        ).returning(model.sub)
    ).first()
    return written is not None


def entry(db: Session, model, tenant: str, sub: str):
    """A person's entry as the database holds it now (after an upsert, not the session's copy)."""
    return db.get(model, (tenant, sub), populate_existing=True)


def withdraw(db: Session, model, tenant: str, sub: str):
    """No longer offer a person (withdrawing twice keeps the first time); None if the directory lacks them."""
    db.execute(
        update(model)
        .where(model.tenant == tenant, model.sub == sub, model.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow(), updated_at=utcnow())
    )
    return entry(db, model, tenant, sub)


def order(model) -> tuple:
    """A directory's order: by name, then jurisdiction and subject (unique, so pages never overlap)."""
    return (model.name, model.tenant, model.sub)


def listing(model, *, tenant: str | None, filters: dict, withdrawn_when_named: bool = False) -> Select:
    """The people of ``tenant`` (every jurisdiction's: None): those of ``jurisdiction``, whose name contains
    ``q`` (any case, LIKE's wildcards taken as written) and of the subjects ``sub``, where given; those
    withdrawn only with ``include_withdrawn`` or, if ``withdrawn_when_named``, when named by subject."""
    stmt = select(model)
    if tenant is not None:
        stmt = stmt.where(model.tenant == tenant)
    if filters.get("jurisdiction"):
        stmt = stmt.where(model.tenant == filters["jurisdiction"].upper())
    if filters.get("sub"):
        stmt = stmt.where(model.sub.in_(filters["sub"]))
    if not filters.get("include_withdrawn") and not (withdrawn_when_named and filters.get("sub")):
        stmt = stmt.where(model.withdrawn_at.is_(None))
    if filters.get("q"):
        stmt = stmt.where(model.name.icontains(filters["q"], autoescape=True))
    return stmt

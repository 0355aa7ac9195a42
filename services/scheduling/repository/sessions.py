"""The jurisdiction-wide session list's queries: a page's keys and versions, then the sessions to present."""

from __future__ import annotations

import functools

from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import joinedload, selectinload

from services.scheduling.models import Cohort, CurrentMaterial, Room, TrainingSession
from services.scheduling.repository import in_tenant, in_tenant_of
from shared.auth import Principal
from shared.errors import NotFound

# The list's filters, in the order their conditions are added.
LIST_FILTERS = ("cohort_id", "status", "starts_from", "starts_before")


def materials_version_column():
    """When content last announced a material: sessions' representations older than that are stale.

    As text: it is only compared, and it comes with every row of a page, where turning it into a
    datetime 50 times would cost more than the rest of the row.
    """
    return cast(select(func.max(CurrentMaterial.published_at)).scalar_subquery(), String)


@functools.cache
def list_keys_statement(national: bool, filters: tuple[str, ...]):
    """The keys and versions of a page of sessions, for one combination of filters: built once.

    Page over keys and versions; only sessions changed since last served are loaded and rendered.
    The materials' version rides along as a scalar subquery: one round trip for the whole page.
    """
    stmt = select(
        TrainingSession.id,
        TrainingSession.updated_at,
        TrainingSession.change,
        TrainingSession.starts_at,
        materials_version_column().label("materials_version"),
    ).where(in_tenant_of(TrainingSession, national=national, tenant=bindparam("tenant")))
    conditions = {
        "cohort_id": lambda value: TrainingSession.cohort_id == value,
        "status": lambda value: TrainingSession.status == value,
        "starts_from": lambda value: TrainingSession.starts_at >= value,
        "starts_before": lambda value: TrainingSession.starts_at < value,
    }
    for name in filters:
        stmt = stmt.where(conditions[name](bindparam(name)))
    return stmt


# Built once: the modules and tenants of a page are expanding parameters, not part of the statement.
_CURRENT_MATERIALS = (
    select(CurrentMaterial)
    .where(
        CurrentMaterial.module_id.in_(bindparam("module_ids", expanding=True)),
        CurrentMaterial.tenant.is_(None) | CurrentMaterial.tenant.in_(bindparam("tenants", expanding=True)),
    )
    .order_by(CurrentMaterial.kind, CurrentMaterial.title, CurrentMaterial.material_id)
)


def current_materials(db: DbSession, module_ids: set[str], tenants: set[str]) -> list[CurrentMaterial]:
    """The current material versions of ``module_ids``: national ones and those of ``tenants``, in one query."""
    return list(db.scalars(_CURRENT_MATERIALS, {"module_ids": sorted(module_ids), "tenants": sorted(tenants)}))


def to_present(db: DbSession, ids: list[str]) -> list[TrainingSession]:
    """The sessions ``ids`` (of a page already scoped), with what presenting them reads."""
    return list(
        db.scalars(
            select(TrainingSession)
            .where(TrainingSession.id.in_(ids))
            .options(selectinload(TrainingSession.cohort), selectinload(TrainingSession.room).selectinload(Room.venue))
        )
    )


def session_to_show(db: DbSession, session_id: str, who: Principal) -> TrainingSession:
    """A session of the caller's jurisdiction with what showing it reads (its cohort's time zone, its room
    and venue), in one statement rather than one lazy load each; another jurisdiction's is a 404."""
    session = db.scalars(
        select(TrainingSession)
        .where(TrainingSession.id == session_id, in_tenant(TrainingSession, who))
        .options(
            # Only the zone: the rest of the cohort, its seat count (a subquery) above all, is not shown.
            joinedload(TrainingSession.cohort).load_only(Cohort.time_zone),
            joinedload(TrainingSession.room).joinedload(Room.venue),
        )
    ).first()
    if session is None:
        raise NotFound("No session with this id.")
    return session

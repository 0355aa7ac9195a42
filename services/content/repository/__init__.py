"""Queries, always scoped to what the caller may see: national rows, plus the caller's own tenant's."""

from __future__ import annotations

from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session, joinedload

from services.content.models import Adaptation, Jurisdiction, Material, MaterialVersion, Module, Practice, Series
from shared.auth import JURISDICTION_ADMIN, NATIONAL_ADMIN, SPECIALIST, Principal
from shared.db import locking
from shared.errors import Forbidden, NotFound

CURATORS = (NATIONAL_ADMIN, JURISDICTION_ADMIN)


def jurisdiction_codes(db: Session) -> list[str]:
    """The code of every Tribe content has learnt of."""
    return list(db.scalars(select(Jurisdiction.code)))


def curriculum_visible(model, who: Principal):
    """National rows (tenant NULL) for everyone; a jurisdiction's own rows for its users only."""
    return curriculum_visible_to(model, national=who.is_national, tenant=who.tenant)


def curriculum_visible_to(model, *, national: bool, tenant):
    """``curriculum_visible`` for a kind of caller; ``tenant`` may be a bound parameter (statements built once)."""
    return true() if national else or_(model.tenant.is_(None), model.tenant == tenant)


def curriculum_owner(who: Principal) -> str | None:
    """The tenant a curator's new curriculum rows belong to: None (national) for a national admin."""
    return None if who.is_national else who.tenant


def ensure_curator(row, who: Principal) -> None:
    """A curator changes only rows of their own scope: national for national admins, else their tenant's."""
    if row.tenant != curriculum_owner(who):
        raise Forbidden("Only the curriculum's own curators may change it.")


def sees_drafts(who: Principal) -> bool:
    return who.has(*CURATORS)


def get_series(session: Session, series_id: str, who: Principal) -> Series:
    row = session.scalars(select(Series).where(Series.id == series_id, curriculum_visible(Series, who))).first()
    if row is None:
        raise NotFound("No series with this id.")
    return row


def get_module(session: Session, module_id: str, who: Principal) -> Module:
    stmt = (
        select(Module)
        .where(Module.id == module_id, curriculum_visible(Module, who))
        .options(joinedload(Module.practices))
    )
    row = session.scalars(stmt).unique().first()
    if row is None:
        raise NotFound("No module with this id.")
    return row


def module_at(session: Session, series_id: str, position: int) -> str | None:
    """The id of the series' module at ``position``, if one is there."""
    return session.scalars(select(Module.id).where(Module.series_id == series_id, Module.position == position)).first()


def practices_by_code(session: Session, codes: list[str]) -> list[Practice]:
    found = {p.code: p for p in session.scalars(select(Practice).where(Practice.code.in_(codes)))}
    return [found[c] for c in codes if c in found]


def materials_visible(who: Principal):
    """Curators see drafts of what they may see; everyone else only published materials."""
    return materials_visible_to(national=who.is_national, drafts=sees_drafts(who), tenant=who.tenant)


def materials_visible_to(*, national: bool, drafts: bool, tenant):
    """``materials_visible`` for a kind of caller; ``tenant`` may be a bound parameter (statements built once)."""
    clause = curriculum_visible_to(Material, national=national, tenant=tenant)
    if not drafts:
        clause = clause & (Material.published_version.is_not(None))
    return clause


def get_material(session: Session, material_id: str, who: Principal, *, for_update: bool = False) -> Material:
    stmt = select(Material).where(Material.id == material_id, materials_visible(who))
    if for_update:
        stmt = locking(session, stmt)
    row = session.scalars(stmt).first()
    if row is None:
        raise NotFound("No material with this id.")
    return row


def material_version(session: Session, material_id: str, number: int) -> MaterialVersion | None:
    """Version ``number`` of a material, whoever may read it (the caller checks)."""
    return session.scalars(
        select(MaterialVersion).where(MaterialVersion.material_id == material_id, MaterialVersion.number == number)
    ).first()


def adaptations_visible(who: Principal):
    """A facilitator sees their own; specialists and admins their jurisdiction's; national admins all."""
    if who.is_national:
        return true()
    clause = Adaptation.tenant == who.tenant
    if not who.has(JURISDICTION_ADMIN, SPECIALIST):
        clause = clause & (Adaptation.facilitator == who.sub)
    return clause


def get_adaptation(session: Session, adaptation_id: str, who: Principal, *, for_update: bool = False) -> Adaptation:
    stmt = select(Adaptation).where(Adaptation.id == adaptation_id, adaptations_visible(who))
    if for_update:
        stmt = locking(session, stmt)
    row = session.scalars(stmt).first()
    if row is None:
        raise NotFound("No adaptation with this id.")
    return row

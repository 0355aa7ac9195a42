"""The statements of the API's lists, for ``shared.http.pagination.paginate``: each scoped as the list is."""

from __future__ import annotations

import functools

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import selectinload

from services.content.models import Adaptation, AdaptationReview, Material, MaterialVersion, Module, Practice, Series
from services.content.repository import adaptations_visible, curriculum_visible, materials_visible_to, sees_drafts
from shared.auth import Principal


def adaptations(who: Principal, status: str | None, module_id: str | None) -> Select:
    """The adaptations the caller sees, with their reviews, of ``status`` and ``module_id`` if given."""
    stmt = (
        select(Adaptation)
        .where(adaptations_visible(who))
        .options(selectinload(Adaptation.reviews), selectinload(Adaptation.module))
    )
    if status:
        stmt = stmt.where(Adaptation.status == status)
    if module_id:
        stmt = stmt.where(Adaptation.module_id == module_id)
    return stmt


def reviews_of(adaptation_id: str) -> Select:
    """An adaptation's reviews (the caller's access to the adaptation is checked before)."""
    return select(AdaptationReview).where(AdaptationReview.adaptation_id == adaptation_id)


def series(who: Principal) -> Select:
    """The series the caller sees: the national curriculum and their jurisdiction's own."""
    return select(Series).where(curriculum_visible(Series, who))


def modules_of(series_id: str, who: Principal) -> Select:
    """A series' modules the caller sees."""
    return select(Module).where(Module.series_id == series_id, curriculum_visible(Module, who))


def practices() -> Select:
    """The program practices: public to every caller."""
    return select(Practice)


@functools.cache
def material_keys(national: bool, sees_drafts: bool, filters: tuple[str, ...]) -> Select:
    """The materials a kind of caller sees, for one combination of filters.

    Built once and run with bound values (``tenant`` and each filter's; see ``paginate``).
    """
    stmt = select(Material).where(
        materials_visible_to(national=national, drafts=sees_drafts, tenant=bindparam("tenant"))
    )
    for name in filters:
        stmt = stmt.where(getattr(Material, name) == bindparam(name))
    return stmt


def versions_of(material: Material, who: Principal) -> Select:
    """A material's versions the caller sees: every one for curators, else the published one only."""
    stmt = select(MaterialVersion).where(MaterialVersion.material_id == material.id)
    if not sees_drafts(who):
        stmt = stmt.where(MaterialVersion.number == material.published_version)
    return stmt

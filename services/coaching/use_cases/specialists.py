"""Specialists by name: a trainer reads who their specialist is, not an identity provider's subject."""

from __future__ import annotations

from services.coaching import repository as repo
from services.coaching.models import SpecialistName
from shared.auth import Principal
from shared.db import DbSession, UnitOfWork


def enter_myself(uow: UnitOfWork, who: Principal) -> SpecialistName:
    """A specialist enters (or renames) themselves with the name their sign-in gives."""
    repo.remember_specialist_name(uow.session, who.tenant, who.sub, who.name_to_enter())
    entry = repo.specialist_entry(uow.session, who.tenant, who.sub)
    uow.commit()
    return entry


def names_of(session: DbSession, who: Principal, subs: list[str]) -> dict:
    """The names of these specialists, those coaching knows, in the caller's jurisdiction."""
    return {"items": repo.specialist_names(session, who, subs)}

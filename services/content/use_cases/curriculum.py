"""Content's use cases for the curriculum: each takes the caller and a unit of work, and commits once.

Materials and adaptations have their own use-case modules (materials.py, adaptations.py).
"""

from __future__ import annotations

from services.content import repository as repo
from services.content.models import Module, Series
from shared.auth import Principal
from shared.db import IntegrityError, UnitOfWork, utcnow
from shared.errors import Conflict, InvalidInput


def _practices(session, codes: list[str]):
    practices = repo.practices_by_code(session, codes)
    unknown = sorted(set(codes) - {p.code for p in practices})
    if unknown:
        raise InvalidInput("Unknown practice codes.", errors={"practice_codes": [f"Unknown: {', '.join(unknown)}"]})
    return practices


def create_series(data: dict, uow: UnitOfWork, who: Principal) -> Series:
    series = Series(tenant=repo.curriculum_owner(who), **data)
    uow.session.add(series)
    try:
        uow.session.flush()
    except IntegrityError:
        raise Conflict("A series with this slug exists.", errors={"slug": ["Already used."]}) from None
    uow.commit()
    return series


def update_series(series: Series, data: dict, uow: UnitOfWork, who: Principal) -> Series:
    repo.ensure_curator(series, who)
    for name, value in data.items():
        setattr(series, name, value)
    uow.commit()
    return series


def add_module(series: Series, data: dict, uow: UnitOfWork, who: Principal) -> Module:
    repo.ensure_curator(series, who)
    codes = data.pop("practice_codes", [])
    if repo.module_at(uow.session, series.id, data["position"]):
        raise Conflict("The series has a module at this position.", errors={"position": ["Already used."]})
    practices = _practices(uow.session, codes)
    module = Module(series=series, tenant=series.tenant, practices=practices, **data)
    uow.session.add(module)
    uow.commit()
    return module


def update_module(module: Module, data: dict, uow: UnitOfWork, who: Principal) -> Module:
    repo.ensure_curator(module, who)
    if "practice_codes" in data:
        module.practices = _practices(uow.session, data.pop("practice_codes"))
        # The link table changed, not the module row: bump its version so readers see the change.
        module.updated_at = utcnow()
    for name, value in data.items():
        setattr(module, name, value)
    uow.commit()
    return module

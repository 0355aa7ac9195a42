"""Load the reference jurisdictions (states, DC, territories) with their default time zones; idempotent."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.scheduling.models import Jurisdiction
from shared.jurisdictions import jurisdictions


def load_seed(session: Session) -> dict:
    # The list lives in shared/ because every service's front door checks a caller's tenant against it.
    known = jurisdictions()
    for code, row in known.items():
        jurisdiction = session.get(Jurisdiction, code) or Jurisdiction(code=code)
        jurisdiction.name, jurisdiction.kind = row.name, row.kind
        jurisdiction.default_time_zone = row.default_time_zone
        session.add(jurisdiction)
    session.flush()
    return {"jurisdictions": len(known)}

"""Load the reference jurisdictions (states, DC, territories) with their default time zones; idempotent."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy.orm import Session

from services.scheduling.models import Jurisdiction

SEED_FILE = Path(__file__).parent / "seed_data" / "jurisdictions.csv"


def load_seed(session: Session, path: Path = SEED_FILE) -> dict:
    count = 0
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            jurisdiction = session.get(Jurisdiction, row["code"]) or Jurisdiction(code=row["code"])
            jurisdiction.name, jurisdiction.kind = row["name"], row["kind"]
            jurisdiction.default_time_zone = row["default_time_zone"]
            session.add(jurisdiction)
            count += 1
    session.flush()
    return {"jurisdictions": count}

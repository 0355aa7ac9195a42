"""Load the national curriculum (the series, its nine sessions, the six practices) from seed_data/.

Idempotent and create-only: rows are matched on their natural keys (practice code, series slug,
module position) and only missing ones are added, so running it at every release never undoes a
curator's edits made through the API.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.content.models import Module, Practice, Series

SEED_FILE = Path(__file__).parent / "seed_data" / "curriculum.json"


def load_seed(session: Session, path: Path = SEED_FILE) -> dict:
    doc = json.loads(path.read_text(encoding="utf-8"))
    practices, added = {}, {"practices": 0, "series": 0, "modules": 0}
    for item in doc["practices"]:
        practice = session.get(Practice, item["code"])
        if practice is None:
            practice = Practice(**item)
            session.add(practice)
            added["practices"] += 1
        practices[practice.code] = practice
    session.flush()
    for item in doc["series"]:
        series = session.scalars(select(Series).where(Series.tenant.is_(None), Series.slug == item["slug"])).first()
        if series is None:
            series = Series(
                tenant=None,
                slug=item["slug"],
                title=item["title"],
                description=item["description"],
                objectives=item["objectives"],
                formats=item["formats"],
            )
            session.add(series)
            added["series"] += 1
            session.flush()
        existing = {m.position for m in series.modules}
        for entry in item["modules"]:
            if entry["position"] in existing:
                continue
            session.add(
                Module(
                    series=series,
                    tenant=None,
                    position=entry["position"],
                    title=entry["title"],
                    summary=entry["summary"],
                    objectives=entry["objectives"],
                    core_components=entry["core_components"],
                    practices=[practices[code] for code in entry["practices"]],
                )
            )
            added["modules"] += 1
    session.flush()
    return added

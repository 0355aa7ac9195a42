"""Load the national curriculum (the series, its nine sessions, the six practices) from seed_data/.

Idempotent: rows are matched on their natural keys (practice code, series slug, module position)
and updated in place, so running it twice changes nothing.
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
    practices = {}
    for item in doc["practices"]:
        practice = session.get(Practice, item["code"]) or Practice(code=item["code"])
        practice.name, practice.definition, practice.position = item["name"], item["definition"], item["position"]
        session.add(practice)
        practices[practice.code] = practice
    session.flush()
    modules = 0
    for item in doc["series"]:
        series = session.scalars(select(Series).where(
            Series.tenant.is_(None), Series.slug == item["slug"])).first()
        if series is None:
            series = Series(tenant=None, slug=item["slug"])
            session.add(series)
        series.title, series.description = item["title"], item["description"]
        series.objectives, series.formats = item["objectives"], item["formats"]
        session.flush()
        existing = {m.position: m for m in series.modules}
        for entry in item["modules"]:
            module = existing.get(entry["position"]) or Module(series=series, tenant=None,
                                                               position=entry["position"])
            module.title, module.summary = entry["title"], entry["summary"]
            module.objectives, module.core_components = entry["objectives"], entry["core_components"]
            module.practices = [practices[code] for code in entry["practices"]]
            session.add(module)
            modules += 1
    session.flush()
    return {"practices": len(practices), "series": len(doc["series"]), "modules": modules}

"""Coaching's reference data: the training-for-trainers series named in COACHING_TRAINER_SERIES (create-only)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.coaching.config import CoachingConfig
from services.coaching.models import TrainerSeries
from shared.db import utcnow


def load_seed(session: Session, config: CoachingConfig | None = None) -> dict:
    """Add each configured series not yet known; a series a national admin added stays."""
    config = config or CoachingConfig.from_env()
    added = 0
    for series_id in config.trainer_series:
        if session.get(TrainerSeries, series_id) is None:
            session.add(TrainerSeries(series_id=series_id, added_by="configuration", added_at=utcnow()))
            added += 1
    session.flush()
    return {"trainer_series": added}

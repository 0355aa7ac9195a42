"""Alembic environment of the coaching service."""

from alembic import context

from services.coaching.models import Base
from shared.migrations import run_env

run_env(context, Base.metadata)

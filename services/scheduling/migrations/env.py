"""Alembic environment of the scheduling service."""

from alembic import context

from services.scheduling.models import Base
from shared.migrations import run_env

run_env(context, Base.metadata)

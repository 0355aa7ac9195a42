"""Alembic environment of the notifications service."""

from alembic import context

from services.notifications.models import Base
from shared.migrations import run_env

run_env(context, Base.metadata)

"""Scheduling's HTTP API: one module per resource."""

from services.scheduling.api import (
    agencies,
    attendance,
    calendars,
    cohorts,
    hours,
    jurisdictions,
    recurring,
    registrations,
    requests,
)

BLUEPRINTS = (
    jurisdictions.blp,
    requests.blp,
    agencies.blp,
    cohorts.blp,
    registrations.blp,
    attendance.blp,
    hours.blp,
    recurring.blp,
    calendars.blp,
)

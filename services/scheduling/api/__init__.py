"""Scheduling's HTTP API: one module per resource."""

from services.scheduling.api import (
    agencies,
    attendance,
    calendars,
    cohorts,
    communities,
    facilitators,
    hours,
    jurisdictions,
    recurring,
    registrations,
    training_requests,
)

BLUEPRINTS = (
    jurisdictions.blp,
    training_requests.blp,
    agencies.blp,
    cohorts.blp,
    registrations.blp,
    attendance.blp,
    facilitators.blp,
    hours.blp,
    recurring.blp,
    calendars.blp,
    communities.blp,
)

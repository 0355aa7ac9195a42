"""Errors that use cases raise without knowing about HTTP; the HTTP layer maps each to one status."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Bad Request"

    def __init__(self, detail: str = "", *, errors: dict | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra  # further problem members, e.g. the conflicting sessions of a 409


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does (another tenant's)."""

    status, title = 404, "Not Found"


class Forbidden(DomainError):
    status, title = 403, "Forbidden"


class Conflict(DomainError):
    status, title = 409, "Conflict"


class InvalidInput(DomainError):
    """Input that passed the schema but breaks a rule; ``errors`` names the fields at fault."""

    status, title = 422, "Validation failed"

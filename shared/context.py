"""What a running service's processes (API, consumers, relay, jobs) share: built once by its bootstrap."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.auth import TokenVerifier
from shared.db import Database
from shared.jurisdictions import JurisdictionRegistry
from shared.tables import PlatformTables


@dataclass
class ServiceContext:
    """What a running service's views need, built once by the service's bootstrap."""

    config: Any
    db: Database
    tables: PlatformTables
    verifier: TokenVerifier
    broker_check: Any = None  # callable raising when the broker is unreachable
    extra: dict | None = None
    # The tenants it serves: the static list, plus the Tribes it knows of when the service reads its table.
    jurisdictions: JurisdictionRegistry = field(default_factory=JurisdictionRegistry)

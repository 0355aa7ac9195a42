"""The jurisdictions the platform serves (states, DC, territories): reference data every service shares."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

JURISDICTIONS_FILE = Path(__file__).parent / "data" / "jurisdictions.csv"
NATIONAL = "US"  # the tenant of the national office; only a national admin acts under it


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: str
    kind: str
    default_time_zone: str


@functools.cache
def jurisdictions() -> dict[str, Jurisdiction]:
    """Every known jurisdiction by its code (exact, upper-case: ``CA``, ``GU``)."""
    with JURISDICTIONS_FILE.open(newline="", encoding="utf-8") as handle:
        return {row["code"]: Jurisdiction(**row) for row in csv.DictReader(handle)}


def is_jurisdiction(code: str) -> bool:
    return code in jurisdictions()

"""Roster import: a cohort's managers or the state's system register a CSV of people at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import BinaryIO

from services.scheduling.domain import registrations as rules
from services.scheduling.models import Registration, RosterImport
from services.scheduling.repository.registrations import lock_cohort, registrations_by_participant, roster_imported
from services.scheduling.use_cases.registrations import (
    admit_newcomer,
    announce,
    audit,
    flush,
    registers_others,
    releases_on_failure,
)
from shared.auth import Principal
from shared.db import UnitOfWork, new_id, utcnow
from shared.errors import Forbidden


@dataclass(frozen=True)
class RosterFile:
    """An uploaded roster as the HTTP layer received it, not read yet."""

    filename: str | None
    media_type: str | None
    stream: BinaryIO


@dataclass(frozen=True)
class RosterResult:
    """An import's stored report, and whether this upload merely repeated an earlier one."""

    import_id: str
    sha256: str
    report: dict
    replayed: bool

    @classmethod
    def of(cls, roster_import: RosterImport, *, replayed: bool) -> RosterResult:
        return cls(
            import_id=roster_import.id,
            sha256=roster_import.sha256,
            report=dict(roster_import.report),
            replayed=replayed,
        )


@releases_on_failure
def import_roster(
    cohort_id: str, upload: RosterFile, uow: UnitOfWork, who: Principal, *, max_bytes: int, correlationid: str = ""
) -> RosterResult:
    """Register a roster's valid rows (a manager's registrations) and report every row.

    The same file again (same sha256) returns the first report and changes nothing; a changed file
    registers only the people not registered yet. A file that is not a usable CSV as a whole is
    refused before anything is written.
    """
    rules.check_roster_type(upload.media_type, upload.filename)
    data = upload.stream.read(max_bytes + 1)
    rules.check_roster_size(len(data), max_bytes)
    sha256 = hashlib.sha256(data).hexdigest()
    roster = rules.parse_roster(rules.decode_roster(data))

    db = uow.session
    cohort = lock_cohort(db, cohort_id, who)
    if not registers_others(db, cohort, who):
        raise Forbidden("Only the cohort's coordinators, jurisdiction admins and state systems import rosters.")
    previous = roster_imported(db, cohort.id, sha256)
    if previous is not None:
        result = RosterResult.of(previous, replayed=True)
        uow.rollback()  # nothing to write: release the cohort's lock now (see releases_on_failure)
        return result
    rules.check_open(cohort.status)

    existing = registrations_by_participant(db, cohort.id)
    report = rules.RosterReport(
        rows=roster.count, rejected=list(roster.rejected), ignored_columns=roster.ignored_columns
    )
    for row in roster.rows:
        current = existing.get(row.participant_id)
        if current is not None and current.status in rules.ACTIVE:
            report.already_registered += 1
            continue
        if current is not None:
            # Re-uploading the state's updated list must not sign people up again who cancelled or
            # were declined; a coordinator takes them back one by one, knowingly.
            report.rejected.append(
                {
                    "line": row.line,
                    "errors": {
                        "participant_id": [
                            f"Their registration was cancelled ({current.cancelled_reason or 'no reason given'}); "
                            f"register them individually to take them back."
                        ]
                    },
                }
            )
            continue
        registration = Registration(
            id=new_id(),
            tenant=cohort.tenant,
            cohort_id=cohort.id,
            participant=row.participant_id,
            name=row.name,
            email=row.email,
            contact_given_at=utcnow(),
            language=row.language,
            registry_id=row.registry_id,
            source=rules.ROSTER,
        )
        db.add(registration)
        admit_newcomer(db, cohort, registration)
        existing[row.participant_id] = registration
        audit(
            db,
            registration,
            "registered",
            who,
            status=registration.status,
            waitlist_position=registration.waitlist_position,
            source=rules.ROSTER,
            roster_sha256=sha256,
            line=row.line,
        )
        announce(db, registration, who, correlationid)
        if registration.status == rules.CONFIRMED:
            report.registered += 1
        else:
            report.waitlisted += 1

    roster_import = RosterImport(
        id=new_id(),
        tenant=cohort.tenant,
        cohort_id=cohort.id,
        sha256=sha256,
        filename=(upload.filename or "")[:255],
        report=report.as_dict(),
        imported_by=who.sub,
        created_at=utcnow(),
    )
    db.add(roster_import)
    flush(db)
    uow.commit()
    return RosterResult.of(roster_import, replayed=False)

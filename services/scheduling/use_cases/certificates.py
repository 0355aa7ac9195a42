"""Completions and certificates of attendance: the cohort's list, the PDF (fpdf2) and public verification by code."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from services.scheduling import repository as repo
from services.scheduling.domain import attendance as rules
from services.scheduling.models import (
    Cohort,
    Completion,
    HostAgency,
    Jurisdiction,
    Registration,
    SeriesTitle,
)
from services.scheduling.repository import attendance as marks_repo
from services.scheduling.repository import facilitators as directory_repo
from services.scheduling.repository.attendance import attended_totals
from services.scheduling.repository.hours import registrations_by_id
from shared.auth import FACILITATOR, INTEGRATION, SPECIALIST, Principal
from shared.db import DbSession
from shared.errors import Forbidden, NotFound

# A Unicode TrueType font, so names such as Hawaiʻi, Nguyễn or Chamorro spellings print as written.
# Debian and Ubuntu ship it as fonts-dejavu-core; without it the PDF falls back to a core font
# (Latin-1) and transliterates what that font cannot show.
UNICODE_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# A certificate stays valid once issued, whatever attendance does later; only its cohort's cancellation voids it.
VALID, VOIDED = "valid", "voided"
CANCELLED_COHORT = "cancelled"
# The training the platform delivers, as content seeds it. A certificate names it until content has
# announced the cohort's own series (scheduling learns titles from content.material.published), so
# a certificate never names the training by a cohort's local label alone.
THE_TRAINING = "Relationship-Based Care for Infants and Toddlers: A Training for Trainers"


def certificate_path(registration_id: str) -> str:
    return f"/registrations/{registration_id}/certificate.pdf"


def verify_url(public_base_url: str, code: str) -> str:
    return f"{public_base_url.rstrip('/')}/certificates/{code}"


# --- the cohort's completions ---------------------------------------------------------------------


def check_may_list(db: DbSession, cohort: Cohort, who: Principal) -> None:
    """Managers, the cohort's facilitators, specialists and state systems see who completed."""
    if repo.manages_cohort(db, cohort, who) or who.has(SPECIALIST, INTEGRATION):
        return
    if who.has(FACILITATOR) and who.sub in (cohort.facilitators or []):
        return
    raise Forbidden("Only the cohort's managers, facilitators and specialists list its completions.")


def describe_completions(db: DbSession, completions: list[Completion], *, public_base_url: str) -> list[dict]:
    """Completions with their participant and the hours credited now (attendance may grow after completion)."""
    if not completions:
        return []
    ids = [c.registration_id for c in completions]
    registrations = registrations_by_id(db, ids)
    totals: dict[str, tuple[int, int]] = {}
    for cohort_id in {c.cohort_id for c in completions}:
        totals.update(
            attended_totals(db, cohort_id, [c.registration_id for c in completions if c.cohort_id == cohort_id])
        )
    items = []
    for completion in completions:
        registration = registrations[completion.registration_id]
        sessions, minutes = totals.get(completion.registration_id, (completion.sessions_attended, completion.minutes))
        items.append(
            {
                "registration_id": registration.id,
                "cohort_id": completion.cohort_id,
                "participant": registration.participant,
                "name": registration.name or registration.participant,
                "registry_id": registration.registry_id,
                "sessions_attended": sessions,
                "minutes": minutes,
                "hours": rules.hours(minutes),
                "completed_at": completion.completed_at,
                "certificate_code": completion.certificate_code,
                "certificate_url": certificate_path(registration.id),
                "verify_url": verify_url(public_base_url, completion.certificate_code),
            }
        )
    return items


# --- the certificate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """Everything printed on a certificate of attendance.

    ``training`` is the series' title (the training itself), ``cohort`` the delivery's own label; the
    issuer is the jurisdiction and, when the cohort has one, its host agency.
    """

    participant_name: str
    training: str
    cohort: str
    first_day: datetime | None
    last_day: datetime | None
    sessions_attended: int
    sessions_held: int
    minutes: int
    jurisdiction: str
    host_agency: str | None
    facilitators: tuple[str, ...]
    registry_id: str | None
    completed_at: datetime
    code: str
    verify_url: str
    time_zone: str
    # Set once the cohort has been cancelled: the certificate no longer stands, and this says why.
    void_reason: str | None = None


def certificate_for(db: DbSession, registration_id: str, who: Principal, *, public_base_url: str) -> Certificate:
    """The certificate of a registration: for the participant themself or the jurisdiction's staff."""
    registration = repo.get_scoped(db, Registration, registration_id, who, what="registration")
    if not (who.has(*repo.STAFF) or who.sub == registration.participant):
        # Another participant's registration: as if it did not exist.
        raise NotFound("No registration with this id.")
    completion = marks_repo.completion_of(db, registration.id)
    if completion is None:
        raise NotFound("This participant has not completed the cohort: there is no certificate yet.")
    return build_certificate(db, completion, registration, public_base_url=public_base_url)


def series_title(db: DbSession, cohort: Cohort) -> str:
    """The series' title as content announced it; the national training's until content has said anything."""
    known = db.get(SeriesTitle, cohort.series_id)
    return known.title if known is not None else THE_TRAINING


def build_certificate(
    db: DbSession, completion: Completion, registration: Registration, *, public_base_url: str
) -> Certificate:
    cohort = db.get(Cohort, completion.cohort_id)
    held = marks_repo.held_sessions(db, cohort.id)
    # What the completion certified when it was issued: a certificate downloaded again, and its
    # verification, state the same hours, whatever attendance or cancelled sessions did since.
    sessions, minutes = completion.sessions_attended, completion.minutes
    jurisdiction = db.get(Jurisdiction, cohort.tenant)
    agency = db.get(HostAgency, cohort.host_agency_id) if cohort.host_agency_id else None
    return Certificate(
        participant_name=registration.name or registration.participant,
        training=series_title(db, cohort),
        cohort=cohort.title,
        first_day=held[0].starts_at if held else None,
        last_day=held[-1].starts_at if held else None,
        sessions_attended=sessions,
        sessions_held=len(held),
        minutes=minutes,
        jurisdiction=jurisdiction.name if jurisdiction else cohort.tenant,
        host_agency=agency.name if agency else None,
        facilitators=named(db, cohort.tenant, facilitators_of([row.facilitators for row in held], cohort.facilitators)),
        registry_id=registration.registry_id or None,
        completed_at=completion.completed_at,
        code=completion.certificate_code,
        verify_url=verify_url(public_base_url, completion.certificate_code),
        time_zone=cohort.time_zone,
        void_reason=_void_reason(cohort, registration),
    )


def _void_reason(cohort: Cohort, registration: Registration) -> str | None:
    """Why a certificate no longer stands: only its cohort's cancellation voids it (a completion is a fact)."""
    if cohort.status != CANCELLED_COHORT:
        return None
    return (
        f"The cohort was cancelled: {registration.cancelled_reason}"
        if registration.cancelled_reason
        else "The cohort was cancelled."
    )


def facilitators_of(per_session: list[list[str] | None], cohort_default: list[str] | None) -> tuple[str, ...]:
    """Who facilitated the sessions held, in order of first appearance; the cohort's own list if none is named."""
    named = dict.fromkeys(sub for subs in per_session for sub in (subs or []))
    return tuple(named or dict.fromkeys(cohort_default or []))


def named(db: DbSession, tenant: str, subs: tuple[str, ...]) -> tuple[str, ...]:
    """Facilitators by the name they sign in with; by subject until they have taken attendance."""
    names = directory_repo.facilitator_names(db, tenant, subs)
    return tuple(names.get(sub, sub) for sub in subs)


def verify(db: DbSession, code: str) -> Certificate:
    """The certificate a public verifier holds the code of (404 for any other code)."""
    if not CODE_PATTERN.match(code or ""):
        raise NotFound("No certificate with this code.")
    completion = marks_repo.completion_by_code(db, code)
    if completion is None:
        raise NotFound("No certificate with this code.")
    registration = db.get(Registration, completion.registration_id)
    return build_certificate(db, completion, registration, public_base_url="")


def describe_verification(certificate: Certificate) -> dict:
    """What a verifier learns: who, which training and cohort, hours, when, who issued it and who facilitated."""
    return {
        "certificate_code": certificate.code,
        "participant_name": certificate.participant_name,
        "registry_id": certificate.registry_id,
        "series": certificate.training,
        "cohort": certificate.cohort,
        "hours": rules.hours(certificate.minutes),
        "sessions_attended": certificate.sessions_attended,
        "sessions_held": certificate.sessions_held,
        "completed_at": certificate.completed_at,
        "jurisdiction": certificate.jurisdiction,
        "issuer": {"jurisdiction": certificate.jurisdiction, "host_agency": certificate.host_agency},
        "facilitators": list(certificate.facilitators),
        "status": VOIDED if certificate.void_reason else VALID,
        "void_reason": certificate.void_reason,
    }


# --- the verification page ------------------------------------------------------------------------

_pages = Environment(
    loader=PackageLoader("services.scheduling", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
)


def render_verification_page(certificate: Certificate) -> str:
    """The HTML page a person opens from the certificate's link: the facts of the JSON answer, in words."""
    return _pages.get_template("certificate_verification.html").render(
        c=certificate,
        issuer=issuer(certificate),
        hours=rules.format_hours(certificate.minutes),
        dates=date_range(certificate.first_day, certificate.last_day, certificate.time_zone),
        completed_on=_long_date(certificate.completed_at, certificate.time_zone),
    )


def render_unknown_code_page() -> str:
    """The page a person sees for a code that belongs to no certificate."""
    return _pages.get_template("certificate_verification.html").render(c=None)


def render_not_found_page() -> str:
    return _pages.get_template("certificate_not_found.html").render()


# --- the PDF --------------------------------------------------------------------------------------


def _long_date(moment: datetime, time_zone: str) -> str:
    local = moment.astimezone(ZoneInfo(time_zone))
    return f"{local:%B} {local.day}, {local.year}"


def date_range(first: datetime | None, last: datetime | None, time_zone: str) -> str:
    """The series' dates as the participant lived them: in the cohort's time zone."""
    if first is None or last is None:
        return ""
    start, end = _long_date(first, time_zone), _long_date(last, time_zone)
    return start if start == end else f"{start} to {end}"


def unicode_font() -> tuple[Path, Path] | None:
    for folder in UNICODE_FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


_LATIN1_STANDINS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u02bb": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)


def latin1(text: str) -> str:
    """``text`` in what a core PDF font can show: accents kept where Latin-1 has them, else dropped."""
    out = []
    for char in text.translate(_LATIN1_STANDINS):
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(base if base and base.isascii() else "?")
    return "".join(out)


def render_pdf(certificate: Certificate) -> bytes:
    """A one-page, landscape US Letter certificate of attendance."""
    # Imported here, not with the module: fpdf2 brings fontTools and Pillow, about 45 MB in every API
    # worker that never renders a certificate (``make bench``'s largest process RSS, limit 150 MB).
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="Letter")
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 20, 20)
    fonts = unicode_font()
    if fonts:
        pdf.add_font("Certificate", "", str(fonts[0]))
        pdf.add_font("Certificate", "B", str(fonts[1]))
        family, text = "Certificate", (lambda s: s)
    else:
        family, text = "Helvetica", latin1
    pdf.set_title(text(f"Certificate of Attendance: {certificate.participant_name}"))
    pdf.set_author(text(certificate.jurisdiction))
    pdf.set_creator("t4t-platform scheduling service")
    pdf.add_page()
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)

    def line(value: str, size: float, *, bold: bool = False, height: float | None = None, gap: float = 0):
        pdf.set_font(family, "B" if bold else "", size)
        pdf.multi_cell(0, height or size * 0.5, text(value), align="C", new_x="LMARGIN", new_y="NEXT")
        if gap:
            pdf.ln(gap)

    pdf.set_y(24)
    line("Certificate of Attendance", 28, bold=True, gap=6)
    line("This certifies that", 13, gap=3)
    line(certificate.participant_name, 24, bold=True, gap=1)
    if certificate.registry_id:
        line(f"Registry ID: {certificate.registry_id}", 10, gap=2)
    pdf.ln(2)
    line("attended the training for trainers", 13, gap=3)
    line(certificate.training, 16, bold=True, gap=1)
    line(f"Cohort: {certificate.cohort}", 10, gap=4)
    dates = date_range(certificate.first_day, certificate.last_day, certificate.time_zone)
    if dates:
        line(dates, 12, gap=2)
    line(
        f"{rules.format_hours(certificate.minutes)} training hours, "
        f"{certificate.sessions_attended} of {certificate.sessions_held} sessions attended",
        12,
        gap=2,
    )
    if certificate.facilitators:
        line(f"Facilitated by {', '.join(certificate.facilitators)}", 12, gap=2)
    line(f"Completed on {_long_date(certificate.completed_at, certificate.time_zone)}", 12, gap=4)
    line(f"Issued by {issuer(certificate)}", 12, bold=True)

    # The verification block sits at the foot of the page, or just below a long name or title.
    pdf.set_y(max(pdf.get_y() + 5, pdf.h - 38))
    line(f"Verification code: {certificate.code}", 11, bold=True, gap=1)
    pdf.set_font(family, "", 10)
    pdf.cell(
        0,
        6,
        text(f"Verify at {certificate.verify_url}"),
        align="C",
        link=certificate.verify_url,
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def issuer(certificate: Certificate) -> str:
    """Who issues the certificate: the host agency for the jurisdiction, or the jurisdiction alone."""
    if certificate.host_agency:
        return f"{certificate.host_agency}, {certificate.jurisdiction}"
    return certificate.jurisdiction


def download_name(certificate: Certificate) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", latin1(certificate.participant_name)).strip("-").lower() or "participant"
    return f"certificate-{slug}.pdf"

"""Certificates of attendance: the PDF parses back with pypdf, public verification by code, completions and roles."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from services.scheduling.models import Attendance, Cohort, Completion, Registration, TrainingSession
from services.scheduling.repository import facilitators as directory_repo
from services.scheduling.use_cases import certificates
from tests.scheduling import factories

BACKENDS = ["sqlite", "postgres"]
PROBLEM = "application/problem+json"
FACILITATOR = ("facilitator", "CA", "fac-ca")
CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
TX_ADMIN = ("jurisdiction_admin", "TX", "admin-tx")


def auth(tokens, who) -> dict:
    role, tenant, sub = who
    return tokens.headers(role, tenant, sub=sub)


def completed_cohort(
    client,
    ctx,
    tokens,
    *,
    tenant="CA",
    time_zone="America/Los_Angeles",
    facilitator="fac-ca",
    facilitator_name="",
    names=None,
    partial_minutes=30,
):
    """A cohort of nine past sessions; "leilani-kealoha" attends eight in full and one in part, "noa-kai" two.

    Returns (cohort id, {participant: registration id}, [session start instants]).
    """
    names = names or {}
    with ctx.db.unit_of_work() as uow:
        cohort = factories.cohort(
            uow.session,
            tenant=tenant,
            time_zone=time_zone,
            facilitators=(facilitator,),
            first_day=datetime.now(UTC) - timedelta(weeks=10),
        )
        registrations = {}
        for participant in ("leilani-kealoha", "noa-kai"):
            row = factories.registration(uow.session, cohort, participant, registry_id=f"{tenant}-{participant}")
            row.name = names.get(participant, row.name)
            registrations[participant] = row.id
        sessions = uow.session.scalars(
            select(TrainingSession).where(TrainingSession.cohort_id == cohort.id).order_by(TrainingSession.starts_at)
        ).all()
        starts = [s.starts_at for s in sessions]
        session_ids = [s.id for s in sessions]
        cohort_id = cohort.id
        uow.commit()
    headers = tokens.headers("facilitator", tenant, sub=facilitator, name=facilitator_name)
    for index, session_id in enumerate(session_ids):
        records = [{"registration_id": registrations["leilani-kealoha"], "status": "present"}]
        if index == 4:
            records = [
                {"registration_id": registrations["leilani-kealoha"], "status": "partial", "minutes": partial_minutes}
            ]
        if index < 2:
            records.append({"registration_id": registrations["noa-kai"], "status": "present"})
        response = client.put(f"/sessions/{session_id}/attendance", json={"records": records}, headers=headers)
        assert response.status_code == 200, response.json
    return cohort_id, registrations, starts


def pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return "\n".join(page.extract_text() for page in reader.pages)


def certificate_code(ctx, registration_id: str) -> str:
    with ctx.db.session() as db:
        return db.scalars(
            select(Completion.certificate_code).where(Completion.registration_id == registration_id)
        ).one()


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_the_certificate_pdf_parses_back_with_name_hours_and_code(sclient, scheduling_ctx, tokens, database):
    cohort_id, regs, starts = completed_cohort(sclient, scheduling_ctx, tokens)
    leilani = regs["leilani-kealoha"]
    response = sclient.get(
        f"/registrations/{leilani}/certificate.pdf", headers=tokens.headers("participant", "CA", sub="leilani-kealoha")
    )
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert "no-store" in response.headers["Cache-Control"]
    text = pdf_text(response.data)
    code = certificate_code(scheduling_ctx, leilani)
    assert "Leilani Kealoha" in text
    assert "16.5 training hours" in text  # 8 x 120 minutes + 30 minutes
    assert "9 of 9 sessions" in text
    assert "California" in text
    assert code in text
    assert f"{scheduling_ctx.config.public_base_url}/certificates/{code}" in text
    with scheduling_ctx.db.session() as db:
        assert db.get(Cohort, cohort_id).title in text
    first = starts[0].astimezone(ZoneInfo("America/Los_Angeles"))
    assert f"{first:%B} {first.day}, {first.year}" in text


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_the_certificate_names_the_training_its_issuer_facilitators_and_registry_id(
    sclient, scheduling_ctx, tokens, database
):
    # Content has announced nothing yet: the certificate still names the training, not the cohort's label.
    _, regs, _ = completed_cohort(sclient, scheduling_ctx, tokens)
    response = sclient.get(
        f"/registrations/{regs['leilani-kealoha']}/certificate.pdf",
        headers=tokens.headers("participant", "CA", sub="leilani-kealoha"),
    )
    assert response.status_code == 200
    text = " ".join(pdf_text(response.data).split())
    assert "Relationship-Based Care for Infants and Toddlers: A Training for Trainers" in text
    assert "Issued by Bay Area Child Care Council, California" in text
    assert "Facilitated by fac-ca" in text
    assert "Registry ID: CA-leilani-kealoha" in text


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_the_certificate_names_facilitators_as_they_sign_in_once_they_have_taken_attendance(
    sclient, scheduling_ctx, tokens, database
):
    _, regs, _ = completed_cohort(sclient, scheduling_ctx, tokens, facilitator_name="Malia Akana")
    leilani = regs["leilani-kealoha"]
    participant = tokens.headers("participant", "CA", sub="leilani-kealoha")

    def named_on_both():
        text = " ".join(
            pdf_text(sclient.get(f"/registrations/{leilani}/certificate.pdf", headers=participant).data).split()
        )
        verified = sclient.get(f"/certificates/{certificate_code(scheduling_ctx, leilani)}").json["facilitators"]
        return text.split("Facilitated by ", 1)[1].split(" Completed on", 1)[0], verified

    assert named_on_both() == ("Malia Akana", ["Malia Akana"])
    # Her sign-in's name changes (a marriage, a correction): the next sheet she marks brings it.
    with scheduling_ctx.db.session() as db:
        first_session = db.scalars(select(Attendance.session_id).where(Attendance.registration_id == leilani)).first()
    renamed = tokens.headers("facilitator", "CA", sub="fac-ca", name="Malia Akana-Kahale")
    records = {"records": [{"registration_id": leilani, "status": "present"}]}
    assert sclient.put(f"/sessions/{first_session}/attendance", json=records, headers=renamed).status_code == 200
    assert named_on_both() == ("Malia Akana-Kahale", ["Malia Akana-Kahale"])
    # A name of any shape from an identity provider: spaced as printed, cut to what is kept, never a 500.
    sprawling = tokens.headers("facilitator", "CA", sub="fac-ca", name="  Malia\n Akana " + "x" * 300)
    assert sclient.put(f"/sessions/{first_session}/attendance", json=records, headers=sprawling).status_code == 200
    assert named_on_both()[1] == [("Malia Akana " + "x" * 300)[:200]]
    # The same subject in another jurisdiction is another person to it: California's name stays California's.
    with scheduling_ctx.db.session() as db:
        assert directory_repo.facilitator_names(db, "OR", ["fac-ca"]) == {}


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_facilitator_entered_in_the_directory_by_an_admin_is_named_on_certificates(
    sclient, scheduling_ctx, tokens, database
):
    _, regs, _ = completed_cohort(sclient, scheduling_ctx, tokens)
    code = certificate_code(scheduling_ctx, regs["leilani-kealoha"])
    assert sclient.get(f"/certificates/{code}").json["facilitators"] == ["fac-ca"]
    entered = sclient.put(
        "/facilitators/fac-ca",
        json={"name": "Malia Akana"},
        headers=tokens.headers("jurisdiction_admin", "CA", sub="admin-ca"),
    )
    assert entered.status_code == 200, entered.json
    assert sclient.get(f"/certificates/{code}").json["facilitators"] == ["Malia Akana"]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_certificate_without_registry_id_or_host_agency_says_so_plainly(sclient, scheduling_ctx, tokens, database):
    _, regs, _ = completed_cohort(sclient, scheduling_ctx, tokens)
    with scheduling_ctx.db.unit_of_work() as uow:
        registration = uow.session.get(Registration, regs["leilani-kealoha"])
        registration.registry_id = None
        uow.session.get(Cohort, registration.cohort_id).host_agency_id = None
        uow.commit()
    response = sclient.get(
        f"/registrations/{regs['leilani-kealoha']}/certificate.pdf",
        headers=tokens.headers("participant", "CA", sub="leilani-kealoha"),
    )
    text = " ".join(pdf_text(response.data).split())
    assert "Registry ID" not in text
    assert "Issued by California" in text
    code = certificate_code(scheduling_ctx, regs["leilani-kealoha"])
    body = sclient.get(f"/certificates/{code}", headers={"Accept": "application/json"}).json
    assert (body["registry_id"], body["issuer"]) == (None, {"jurisdiction": "California", "host_agency": None})


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_dates_are_those_of_the_cohorts_zone(sclient, scheduling_ctx, tokens, database):
    # 9:00 in Guam (ChST, UTC+10) is the previous day in UTC: the certificate shows Guam's dates.
    _, regs, starts = completed_cohort(
        sclient, scheduling_ctx, tokens, tenant="GU", time_zone="Pacific/Guam", facilitator="fac-gu"
    )
    response = sclient.get(
        f"/registrations/{regs['leilani-kealoha']}/certificate.pdf",
        headers=tokens.headers("jurisdiction_admin", "GU", sub="admin-gu"),
    )
    assert response.status_code == 200
    text = pdf_text(response.data)
    first, last = (moment.astimezone(ZoneInfo("Pacific/Guam")) for moment in (starts[0], starts[-1]))
    assert first.date() != starts[0].date()  # the case this test is about
    assert f"{first:%B} {first.day}, {first.year} to {last:%B} {last.day}, {last.year}" in text
    assert "Guam" in text


@pytest.mark.skipif(certificates.unicode_font() is None, reason="no Unicode TrueType font installed")
def test_names_print_as_written_with_a_unicode_font(sclient, scheduling_ctx, tokens):
    _, regs, _ = completed_cohort(sclient, scheduling_ctx, tokens, names={"leilani-kealoha": "Nāone Nguyễn"})
    response = sclient.get(f"/registrations/{regs['leilani-kealoha']}/certificate.pdf", headers=auth(tokens, CA_ADMIN))
    assert "Nāone Nguyễn" in pdf_text(response.data)


def test_without_a_unicode_font_names_are_transliterated():
    assert certificates.latin1("Nāone Nguyễn of Hawaiʻi, Agaña") == "Naone Nguyen of Hawai'i, Agaña"
    assert certificates.latin1("李") == "?"


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_who_may_download_a_certificate(sclient, scheduling_ctx, tokens, database):
    _, regs, _ = completed_cohort(sclient, scheduling_ctx, tokens)
    url = f"/registrations/{regs['leilani-kealoha']}/certificate.pdf"
    assert sclient.get(url, headers=tokens.headers("participant", "CA", sub="leilani-kealoha")).status_code == 200
    assert sclient.get(url, headers=auth(tokens, FACILITATOR)).status_code == 200
    assert sclient.get(url, headers=auth(tokens, CA_ADMIN)).status_code == 200
    for headers in (
        tokens.headers("participant", "CA", sub="noa-kai"),
        auth(tokens, TX_ADMIN),
        tokens.headers("participant", "TX", sub="leilani-kealoha"),
    ):
        response = sclient.get(url, headers=headers)
        assert response.status_code == 404 and response.mimetype == PROBLEM
    assert sclient.get(url).status_code == 401


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_no_certificate_before_completion(sclient, scheduling_ctx, tokens, database):
    _, regs, _ = completed_cohort(sclient, scheduling_ctx, tokens)
    response = sclient.get(
        f"/registrations/{regs['noa-kai']}/certificate.pdf", headers=tokens.headers("participant", "CA", sub="noa-kai")
    )
    assert response.status_code == 404
    assert "not completed" in response.json["detail"]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_anyone_verifies_a_code_without_a_token(sclient, scheduling_ctx, tokens, database):
    _, regs, _ = completed_cohort(sclient, scheduling_ctx, tokens)
    code = certificate_code(scheduling_ctx, regs["leilani-kealoha"])
    response = sclient.get(f"/certificates/{code}", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) == {
        "certificate_code",
        "participant_name",
        "registry_id",
        "series",
        "cohort",
        "hours",
        "sessions_attended",
        "sessions_held",
        "completed_at",
        "jurisdiction",
        "issuer",
        "facilitators",
        "status",
        "void_reason",
    }
    assert (body["status"], body["void_reason"], body["sessions_attended"]) == ("valid", None, 9)
    # The training itself, even before content has announced the series' title; the cohort is its delivery.
    assert body["series"] == "Relationship-Based Care for Infants and Toddlers: A Training for Trainers"
    assert body["cohort"].startswith("Relationship-Based Care cohort")
    assert (body["participant_name"], body["hours"], body["jurisdiction"]) == ("Leilani Kealoha", 16.5, "California")
    assert (body["sessions_attended"], body["sessions_held"]) == (9, 9)
    assert body["issuer"] == {"jurisdiction": "California", "host_agency": "Bay Area Child Care Council"}
    assert (body["facilitators"], body["registry_id"]) == (["fac-ca"], "CA-leilani-kealoha")
    assert response.headers["Cache-Control"] == "no-store"
    assert "Accept" in response.headers["Vary"]
    # A client that states no preference (curl, scripts) gets JSON too.
    assert sclient.get(f"/certificates/{code}").mimetype == "application/json"


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_browser_opening_the_certificates_link_gets_a_page(sclient, scheduling_ctx, tokens, database):
    from html.parser import HTMLParser

    _, regs, _ = completed_cohort(sclient, scheduling_ctx, tokens, names={"leilani-kealoha": "Leilani <Kealoha>"})
    code = certificate_code(scheduling_ctx, regs["leilani-kealoha"])
    response = sclient.get(f"/certificates/{code}", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Accept" in response.headers["Vary"] and response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]

    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts = []

        def handle_data(self, data):
            self.parts.append(data)

    page = Text()
    page.feed(response.get_data(as_text=True))
    text = " ".join(" ".join(page.parts).split())
    assert "Leilani <Kealoha>" in text  # printed as written, and escaped in the markup
    assert "<Kealoha>" not in response.get_data(as_text=True)
    for fact in (
        "Relationship-Based Care for Infants and Toddlers: A Training for Trainers",
        "16.5",
        "9 of 9",
        "Bay Area Child Care Council",
        "California",
        "fac-ca",
        "CA-leilani-kealoha",
        code,
    ):
        assert fact in text, fact

    unknown = sclient.get("/certificates/AAAAAAAAAAAA", headers={"Accept": BROWSER_ACCEPT})
    assert unknown.status_code == 404 and unknown.mimetype == "text/html"
    assert "No certificate with this code" in unknown.get_data(as_text=True)
    unknown = sclient.get("/certificates/AAAAAAAAAAAA", headers={"Accept": "application/json"})
    assert unknown.status_code == 404 and unknown.mimetype == PROBLEM


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
@pytest.mark.parametrize("code", ["AAAAAAAAAAAA", "not a code", "x" * 41, "..%2F..%2Fetc"])
def test_a_wrong_code_is_404(sclient, scheduling_ctx, tokens, database, code):
    completed_cohort(sclient, scheduling_ctx, tokens)
    response = sclient.get(f"/certificates/{code}")
    assert response.status_code == 404
    assert response.mimetype == PROBLEM


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_the_cohorts_completions(sclient, scheduling_ctx, tokens, database):
    cohort_id, regs, _ = completed_cohort(sclient, scheduling_ctx, tokens)
    response = sclient.get(f"/cohorts/{cohort_id}/completions", headers=auth(tokens, FACILITATOR))
    assert response.status_code == 200
    (item,) = response.json["items"]
    code = certificate_code(scheduling_ctx, regs["leilani-kealoha"])
    assert item["registration_id"] == regs["leilani-kealoha"]
    assert (item["hours"], item["sessions_attended"], item["registry_id"]) == (16.5, 9, "CA-leilani-kealoha")
    assert item["certificate_code"] == code
    assert item["verify_url"].endswith(f"/certificates/{code}")
    assert sclient.get(item["certificate_url"], headers=auth(tokens, CA_ADMIN)).status_code == 200

    assert sclient.get(f"/cohorts/{cohort_id}/completions", headers=auth(tokens, TX_ADMIN)).status_code == 404
    assert (
        sclient.get(
            f"/cohorts/{cohort_id}/completions", headers=tokens.headers("participant", "CA", sub="noa-kai")
        ).status_code
        == 403
    )
    assert (
        sclient.get(
            f"/cohorts/{cohort_id}/completions", headers=tokens.headers("facilitator", "CA", sub="fac-other")
        ).status_code
        == 403
    )


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_certificate_names_the_series_content_announced(sclient, scheduling_ctx, tokens, database):
    from services.scheduling.handlers import HANDLERS
    from shared.envelope import make_event

    _, regs, _ = completed_cohort(sclient, scheduling_ctx, tokens)
    title = "Relationship-Based Care for Infants and Toddlers: A Training for Trainers"
    event = make_event(
        "content.material.published",
        source="/services/content",
        subject="m1",
        tenant="national",
        data={
            "material_id": "m1",
            "module_id": "module-1",
            "series_id": factories.SERIES_ID,
            "series_title": title,
            "module_position": 1,
            "kind": "resource",
            "title": "Handout",
            "version": 1,
            "national": True,
            "published_by": "admin",
        },
    )
    with scheduling_ctx.db.unit_of_work() as uow:
        HANDLERS["attach_material_version"](event, uow)
        uow.commit()
    pdf = sclient.get(
        f"/registrations/{regs['leilani-kealoha']}/certificate.pdf",
        headers=tokens.headers("participant", "CA", sub="leilani-kealoha"),
    )
    assert pdf.status_code == 200
    assert "Relationship-Based Care for Infants and Toddlers" in " ".join(pdf_text(pdf.data).split())
    verified = sclient.get(
        f"/certificates/{certificate_code(scheduling_ctx, regs['leilani-kealoha'])}",
        headers={"Accept": "application/json"},
    ).json
    assert verified["series"] == title and verified["cohort"].startswith("Relationship-Based Care cohort")


def test_the_api_loads_the_pdf_library_only_when_a_certificate_is_rendered():
    """fpdf2 with fontTools and Pillow is tens of MB that an API worker serving no certificate never needs."""
    import subprocess
    import sys

    code = (
        "import sys; from services.scheduling.app import create_app; create_app(); "
        "print(sorted(m for m in ('fpdf', 'fontTools', 'PIL') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip().splitlines()[-1] == "[]"

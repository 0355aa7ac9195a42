"""The portal in a real browser against the running services: the four flows people follow, offline attendance,
an axe-core check of every page they visit, and screenshots at desktop and phone widths.

The flows build on each other, as the people do: the coordinator's cohort is the one the facilitator
marks and whose participant downloads her certificate.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from shared.testing import wait_until
from tests.helpers import TcpProxy
from tests.portal.conftest import DESKTOP, PHONE, copy_for_readme

MAX_CALLS_PER_PAGE = 3
# The first test also starts the platform (migrations, five processes); a browser flow on two busy
# cores takes tens of seconds.
pytestmark = pytest.mark.timeout(600)
story: dict = {}
axe = Axe()


class Pages:
    """One person's browser: every page it shows is checked with axe, and its API calls are counted."""

    def __init__(self, browser, platform, screenshots, viewport, portal: str | None = None):
        # People in California, as the cohort: the sign-in sends the browser's zone.
        self.context = browser.new_context(
            viewport=viewport, base_url=portal or platform.portal, timezone_id="America/Los_Angeles"
        )
        self.page = self.context.new_page()
        self.screenshots, self.viewport = screenshots, viewport
        self.calls: dict[str, int] = {}
        self.page.on("response", self._count)

    def _count(self, response) -> None:
        # A page is what a GET shows; a form's POST is an action (scheduling nine sessions is nine calls).
        request = response.request
        if request.resource_type == "document" and request.method == "GET" and "x-api-calls" in response.headers:
            path = response.url.split("?")[0]
            self.calls[path] = max(self.calls.get(path, 0), int(response.headers["x-api-calls"]))

    def check(self, name: str | None = None):
        """No serious or critical accessibility violation on the page shown; a screenshot if named."""
        violations = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in axe.run(self.page).response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not violations, f"{self.page.url}: {violations}"
        # Nothing runs off the screen's edge (a phone would have to scroll sideways to reach it).
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{self.page.url} is {overflow}px wider than the {self.viewport['width']}px screen"
        # On a wide screen every table's cells sit under their column's heading (only a phone reads rows as cards).
        if self.viewport["width"] > PHONE["width"]:
            misaligned = self.page.evaluate(
                """[...document.querySelectorAll('table')].filter(t => {
                    const head = t.querySelector('thead th'), cell = t.querySelector('tbody tr > *');
                    return getComputedStyle(t).display !== 'table'
                        || (head && cell && Math.abs(head.getBoundingClientRect().left - cell.getBoundingClientRect().left) > 1);
                }).map(t => t.className || t.querySelector('caption')?.textContent || 'table')"""
            )
            assert not misaligned, f"{self.page.url}: tables whose cells are not under their headings: {misaligned}"
        if name:
            path = self.screenshots / f"{name}-{self.viewport['width']}.png"
            self.page.screenshot(path=str(path), full_page=True)
            return path
        return None

    def sign_in_as(self, name: str) -> None:
        self.page.goto("/sign-in")
        self.check("sign-in")
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=f"Sign in as {name}").click()

    def close(self) -> None:
        too_many = {path: n for path, n in self.calls.items() if n > MAX_CALLS_PER_PAGE}
        self.context.close()
        assert not too_many, f"pages making more than {MAX_CALLS_PER_PAGE} API calls: {too_many}"


@pytest.fixture
def desktop(browser, platform, screenshots):
    pages = Pages(browser, platform, screenshots, DESKTOP)
    yield pages
    pages.close()


@pytest.fixture
def phone(browser, platform, screenshots):
    pages = Pages(browser, platform, screenshots, PHONE)
    yield pages
    pages.close()


@pytest.fixture
def phone_on_a_network(browser, platform, screenshots):
    """A phone reaching the portal over a link the test can cut: (pages, link).

    Chromium's offline mode and Playwright's routing both let a request through now and then from a page
    its service worker controls; cutting the connections themselves holds every time, as on a phone
    without a network.
    """
    portal = urlsplit(platform.portal)
    link = TcpProxy(portal.hostname, portal.port)
    pages = Pages(browser, platform, screenshots, PHONE, portal=f"http://127.0.0.1:{link.port}")
    yield pages, link
    pages.close()
    link.close()


def test_a_host_agency_requests_the_series_schedules_a_cohort_and_registers_participants(
    platform, desktop, phone, readme_images, tmp_path
):
    admin = platform.token("jurisdiction_admin")
    agency = platform.api(
        "POST",
        f"{platform.scheduling}/agencies",
        admin,
        json={"name": "Bay Area Child Care Council", "coordinators": ["dev-agency_coordinator-ca"]},
    )
    page = desktop.page
    page.goto("/")
    desktop.check("welcome")
    desktop.sign_in_as("Casey Coordinator")
    expect(page.get_by_role("heading", name="Cohorts")).to_be_visible()
    desktop.check("cohorts-empty")

    # The series request.
    page.get_by_role("link", name="Request the series").first.click()
    desktop.check()
    page.get_by_label("Host agency").select_option(agency["id"])
    page.get_by_label("Format").select_option("virtual")
    page.get_by_label("Expected participants").fill("12")
    page.get_by_label("From").fill("2027-01-11")
    page.get_by_label("To").fill("2027-03-19")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("status").first).to_contain_text("Your request was sent")
    expect(page.get_by_role("cell", name="submitted")).to_be_visible()
    desktop.check("requests")

    # A cohort: the API's field error shows next to its field, then the cohort is created.
    page.get_by_role("link", name="Cohorts").click()
    page.get_by_role("link", name="New cohort").click()
    page.get_by_label("Host agency").select_option(agency["id"])
    page.get_by_label("Seats").fill("2")
    page.get_by_role("button", name="Create the cohort").click()
    expect(page.locator("#title-error")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    desktop.check("cohort-field-error")
    page.get_by_label("Title").fill("Relationship-Based Care, Bay Area 2027")
    page.get_by_label("Host agency").select_option(agency["id"])
    # No facilitator has signed in yet, so none is offered by name: she is chosen by her user id.
    expect(page.locator("fieldset.facilitator-choice input[type=checkbox]")).to_have_count(0)
    page.get_by_label("By user id").fill("dev-facilitator-ca")
    page.get_by_label("Sessions to attend to complete").fill("1")
    page.get_by_role("button", name="Create the cohort").click()

    # The nine sessions, on the nine days up to yesterday (attendance opens once a session starts).
    expect(page.get_by_role("heading", name="Schedule sessions")).to_be_visible()
    desktop.check("schedule")
    first = datetime.now(ZoneInfo("America/Los_Angeles")) - timedelta(days=10)
    page.get_by_label("First session starts").fill(first.strftime("%Y-%m-%dT09:00"))
    page.get_by_label("Days between sessions").fill("1")
    page.get_by_label("Meeting link").fill("https://meet.example.org/bay-area-rbc")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("status").first).to_contain_text("9 sessions scheduled")
    cohort_id = page.url.split("/cohorts/")[1].split("?")[0].split("#")[0]
    story["cohort_id"] = cohort_id
    sessions = platform.api("GET", f"{platform.scheduling}/cohorts/{cohort_id}/sessions", admin)["items"]
    assert [s["module_position"] for s in sessions] == list(range(1, 10))
    assert sessions[0]["local_start"].startswith(first.strftime("%Y-%m-%dT09:00"))
    story["sessions"] = [s["id"] for s in sessions]
    expect(page.locator("table.calendar").first).to_be_visible()
    # She has not signed in yet: the coordinator reads her user id, which Settings can put a name to.
    expect(page.get_by_text("Facilitated by dev-facilitator-ca.")).to_be_visible()

    # Registrations: two seats, then the waitlist; a bad e-mail is shown next to its field.
    def register(name, email, participant, registry_id="", language=""):
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Participant id").fill(participant)
        page.get_by_label("Registry id").fill(registry_id)
        page.get_by_label("Language to write to them in").select_option(language)
        page.get_by_role("button", name="Register", exact=True).click()

    register("Ana López", "ana.lopez@example.org", "dev-participant-ca", "CA-100234")
    expect(page.get_by_role("status").first).to_contain_text("Ana López: confirmed")
    register("Ben Cho", "", "")  # nobody to key him by: refused here, never filed as the coordinator
    expect(page.locator("#email-error")).to_contain_text("Give their e-mail address")
    register("Ben Cho", "not-an-email", "ben-cho")
    expect(page.locator("#email-error")).to_contain_text("email")
    desktop.check("register-field-error")
    register("Ben Cho", "Ben.Cho@example.org", "")  # no id given: keyed by his e-mail, never the coordinator's
    expect(page.get_by_role("status").first).to_contain_text("Ben Cho: confirmed")
    register("Carla Ruiz", "carla.ruiz@example.org", "carla-ruiz", language="es")  # she reads Spanish
    expect(page.get_by_role("status").first).to_contain_text("Carla Ruiz: waitlisted")
    languages = {
        r["participant"]: r["language"]
        for r in platform.api("GET", f"{platform.scheduling}/cohorts/{cohort_id}/registrations", admin)["items"]
    }
    assert languages == {"dev-participant-ca": None, "ben.cho@example.org": None, "carla-ruiz": "es"}
    expect(page.locator("ol.waitlist")).to_contain_text("Carla Ruiz")

    # Ben cancels through the coordinator: his seat goes to Carla, first on the waitlist.
    page.get_by_role("button", name="Cancel Ben Cho's registration").click()
    expect(page.get_by_role("status").first).to_contain_text("Ben Cho: cancelled")
    expect(page.get_by_text("Nobody is waiting.")).to_be_visible()

    # A roster: one good row (the waitlist, the seats being taken) and one rejected with its reason.
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "participant_id,name,email,registry_id\ndee-tran,Dee Tran,dee.tran@example.org,CA-101502\n"
        "eli-park,Eli Park,not-an-email,\n"
    )
    page.get_by_label("Roster CSV file").set_input_files(str(roster))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Roster report")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("2 rows: 0 registered, 1 waitlisted")
    expect(page.get_by_role("row", name="3 email")).to_be_visible()
    desktop.check("roster-report")
    page.get_by_role("link", name="Back to the cohort").click()
    expect(page.locator("p.lead")).to_contain_text("Virtual · Pacific time (Los Angeles) · Open ·")
    shot = desktop.check("cohort")
    copy_for_readme(shot, readme_images, "portal-cohort.png")

    registrations = platform.api("GET", f"{platform.scheduling}/cohorts/{cohort_id}/registrations", admin)["items"]
    assert {r["name"]: r["status"] for r in registrations} == {
        "Ana López": "confirmed",
        "Ben Cho": "cancelled",
        "Carla Ruiz": "confirmed",
        "Dee Tran": "waitlisted",
    }
    assert {r["name"]: r["participant"] for r in registrations}["Ben Cho"] == "ben.cho@example.org"
    story["registrations"] = {r["participant"]: r["id"] for r in registrations}

    # The cohort page on a phone.
    phone.page.goto("/sign-in")
    phone.page.get_by_role("button", name="Sign in as Casey Coordinator").click()
    phone.page.goto(f"/cohorts/{cohort_id}")
    phone.check("cohort")


def _sheet(platform, session_id):
    sheet = platform.api(
        "GET", f"{platform.scheduling}/sessions/{session_id}/attendance", platform.token("facilitator")
    )
    return {row["participant"]: row for row in sheet["records"]}


def test_a_facilitator_takes_attendance_on_a_phone(platform, phone, readme_images):
    page = phone.page
    phone.sign_in_as("Fran Facilitator")
    expect(page.get_by_role("heading", name="My sessions")).to_be_visible()
    phone.check("my-sessions")
    # Signing in entered her in California's facilitators' directory, by the name she signs in with.
    directory = platform.api("GET", f"{platform.scheduling}/facilitators", platform.token("jurisdiction_admin"))
    assert [(f["sub"], f["name"]) for f in directory["items"]] == [("dev-facilitator-ca", "Fran Facilitator")]
    page.get_by_role("link", name="Take attendance for session 1,").click()
    expect(page.get_by_role("heading", name="Attendance:")).to_be_visible()
    phone.check()
    ana = story["registrations"]["dev-participant-ca"]
    carla = story["registrations"]["carla-ruiz"]
    page.locator(f"label[for='present-{ana}']").click()
    page.get_by_label("Minutes attended", exact=False).nth(1).fill("60")
    page.locator(f"label[for='partial-{carla}']").click()
    expect(page.locator("#sync-status")).to_have_text("All marks are recorded.")
    shot = phone.check("attendance")
    copy_for_readme(shot, readme_images, "portal-attendance-phone.png")
    sheet = _sheet(platform, story["sessions"][0])
    assert (sheet["dev-participant-ca"]["status"], sheet["carla-ruiz"]["status"]) == ("present", "partial")
    assert sheet["carla-ruiz"]["minutes"] == 60

    # Back on her sessions: the first is taken (both seats marked), the next ones not yet.
    page.goto("/my/sessions")
    cards = page.locator("ol.sessions > li")
    expect(cards.nth(0)).to_contain_text("Attendance taken: 2 marked")
    expect(cards.nth(0).get_by_role("link", name="Review attendance for session 1,")).to_be_visible()
    expect(cards.nth(1)).to_contain_text("Attendance not taken yet")
    expect(cards.nth(1).get_by_role("link", name="Take attendance for session 2,")).to_be_visible()
    phone.check("my-sessions-taken")


def test_attendance_taken_offline_arrives_once_when_the_network_returns(platform, phone_on_a_network):
    phone, network = phone_on_a_network
    page = phone.page
    phone.sign_in_as("Fran Facilitator")
    session_id = story["sessions"][1]
    page.goto(f"/sessions/{session_id}/attendance")
    # The service worker keeps a copy of the sheet for a reload without a network.
    wait_until(
        lambda: page.evaluate("caches.match(location.pathname).then(r => !!r)"),
        timeout=15,
        message="the sheet to be kept by the service worker",
    )
    ana = story["registrations"]["dev-participant-ca"]
    carla = story["registrations"]["carla-ruiz"]

    # The browser is told it is offline (navigator.onLine, its events) and its link to the portal is cut:
    # Chromium's offline mode alone lets a request out now and then while a reloaded page starts under
    # its service worker, which a phone without a network would not.
    network.cut()
    phone.context.set_offline(True)
    # The page hears of it a moment later: a mark made before then is sent, as on a real phone.
    page.wait_for_function("() => !navigator.onLine")
    page.locator(f"label[for='absent-{ana}']").click()
    page.locator(f"label[for='present-{ana}']").click()  # a correction before the network returns
    page.locator(f"label[for='present-{carla}']").click()
    expect(page.locator("#sync-status")).to_contain_text("Offline")
    page.reload()
    expect(page.get_by_role("heading", name="Attendance:")).to_be_visible()
    expect(page.locator(f"#present-{ana}")).to_be_checked()
    expect(page.locator(f"#present-{carla}")).to_be_checked()
    assert page.evaluate(f"JSON.parse(localStorage.getItem('t4t-attendance:{session_id}')).length") == 3
    sheet = _sheet(platform, session_id)
    assert all(row["status"] is None for row in sheet.values()), f"something was sent offline: {sheet}"
    phone.check("attendance-offline")
    # A copy kept offline may carry the CSRF token of an earlier sign-in: the script renews it and sends.
    page.evaluate("document.querySelector('meta[name=\"csrf-token\"]').content = 'from-an-earlier-sign-in'")
    # Every message the sync shows, to tell a renewal at once from a refusal the 15-second timer repaired.
    page.evaluate(
        """() => { window.shown = []; const status = document.getElementById('sync-status');
             new MutationObserver(() => window.shown.push(status.textContent))
               .observe(status, {childList: true, characterData: true, subtree: true}); }"""
    )

    network.restore()
    phone.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")  # as the browser does when the network returns
    expect(page.locator("#sync-status")).to_have_text("All marks are recorded.", timeout=15000)
    assert not [text for text in page.evaluate("window.shown") if text.startswith("Not sent")], page.evaluate(
        "window.shown"
    )
    assert page.evaluate(f"localStorage.getItem('t4t-attendance:{session_id}')") == "[]"
    sheet = _sheet(platform, session_id)
    assert (sheet["dev-participant-ca"]["status"], sheet["carla-ruiz"]["status"]) == ("present", "present")

    # The same marks again (their answer lost on a poor connection): acknowledged, written no second time.
    again = page.evaluate(
        """([url, ana, carla]) => fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json',
             'X-CSRF-Token': document.querySelector('meta[name="csrf-token"]').content},
             body: JSON.stringify({marks: [
               {key: 'k-ana', registration_id: ana, status: 'present', marked_at: new Date().toISOString()},
               {key: 'k-carla', registration_id: carla, status: 'present', marked_at: new Date().toISOString()}]})})
           .then(r => r.json())""",
        [f"/sessions/{session_id}/attendance/marks", ana, carla],
    )
    assert again == {"applied": ["k-ana", "k-carla"], "superseded": []}
    assert _sheet(platform, session_id) == sheet, "a mark sent twice changes nothing"

    # A mark made before a later edit elsewhere loses to it (the later edit wins).
    stale = (datetime.fromisoformat(sheet["carla-ruiz"]["updated_at"]) - timedelta(minutes=5)).isoformat()
    answer = page.evaluate(
        """([url, carla, stale]) => fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json',
             'X-CSRF-Token': document.querySelector('meta[name="csrf-token"]').content},
             body: JSON.stringify({marks: [
               {key: 'k-old', registration_id: carla, status: 'absent', marked_at: stale}]})})
           .then(r => r.json())""",
        [f"/sessions/{session_id}/attendance/marks", carla, stale],
    )
    assert answer == {"applied": [], "superseded": ["k-old"]}
    assert _sheet(platform, session_id)["carla-ruiz"]["status"] == "present"


def test_a_participant_finds_her_sessions_and_materials_and_downloads_her_certificate(platform, desktop, phone):
    national = platform.token("national_admin", "US")
    cohort = platform.api("GET", f"{platform.scheduling}/cohorts/{story['cohort_id']}", national)
    modules = platform.api("GET", f"{platform.content}/series/{cohort['series_id']}/modules", national)["items"]
    material = platform.api(
        "POST",
        f"{platform.content}/materials",
        national,
        json={"module_id": modules[0]["id"], "kind": "video_link", "title": "Welcome video"},
    )
    platform.api(
        "POST",
        f"{platform.content}/materials/{material['id']}/versions",
        national,
        json={"url": "https://video.example.org/welcome"},
    )
    platform.api("POST", f"{platform.content}/materials/{material['id']}/publish", national)
    first = story["sessions"][0]
    wait_until(
        lambda: platform.api("GET", f"{platform.scheduling}/sessions/{first}", national)["materials"],
        timeout=30,
        interval=0.3,
        message="scheduling to learn of the published material",
    )

    page = desktop.page
    desktop.sign_in_as("Ana López")
    expect(page.get_by_role("heading", name="My training")).to_be_visible()
    page.get_by_label("Show times in").select_option("Pacific/Guam")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("ol.sessions > li")).to_have_count(9)
    expect(page.locator("ol.sessions > li").first).to_contain_text("ChST")
    # Her sessions are behind her: held, with no meeting left to join.
    expect(page.locator("ol.sessions > li").first).to_contain_text("Held.")
    # Each held session leads to the marks behind her hours (My training hours).
    marked = page.locator("ol.sessions > li").first.get_by_role("link", name="How you were marked")
    expect(marked).to_have_attribute("href", "/my/hours#marks-heading")
    expect(page.get_by_role("link", name="Join the meeting")).to_have_count(0)
    expect(page.get_by_role("link", name="Welcome video")).to_have_attribute(
        "href", "https://video.example.org/welcome"
    )
    # Completed, so her certificate is offered.
    expect(page.get_by_role("row").filter(has_text=cohort["title"])).to_contain_text("completed")
    desktop.check("my-training")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download my certificate").click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")

    page.get_by_role("button", name="Get my calendar feed link").click()
    feed = page.get_by_label("Calendar feed address").input_value()
    desktop.check("calendar-feed")
    calendar = requests.get(feed, timeout=10)
    assert calendar.headers["Content-Type"].startswith("text/calendar")
    assert calendar.text.count("BEGIN:VEVENT") == 9

    phone.sign_in_as("Ana López")
    phone.check("my-training")


def test_the_host_agency_sees_completions_and_the_admin_exports_training_hours(platform, desktop, browser, screenshots):
    page = desktop.page
    desktop.sign_in_as("Casey Coordinator")
    page.goto(f"/cohorts/{story['cohort_id']}")
    expect(page.get_by_text("Facilitated by Fran Facilitator.")).to_be_visible()  # named since she signed in
    # Those who met the completion rule read "completed", the others their status.
    listed = platform.api(
        "GET", f"{platform.scheduling}/cohorts/{story['cohort_id']}/registrations", platform.token("jurisdiction_admin")
    )["items"]
    assert {r["participant"] for r in listed if r["completed_at"]} >= {"dev-participant-ca"}
    rows = page.locator("table.registrations tbody tr")
    for registration in listed:
        if registration["status"] == "confirmed":
            row = rows.filter(has_text=registration["email"])
            expect(row.locator("td[data-label=Status]")).to_have_text(
                "completed" if registration["completed_at"] else "confirmed"
            )
    page.get_by_role("link", name="Completions and certificates").click()
    expect(page.get_by_role("cell", name="Ana López", exact=True)).to_be_visible()
    desktop.check("completions")
    story["verify_link"] = page.locator("table a[href^='/verify/']").first.get_attribute("href")

    admin = Pages(browser, platform, screenshots, DESKTOP)
    try:
        admin.sign_in_as("Alex Admin")
        admin.check()
        with admin.page.expect_download() as download:
            admin.page.get_by_role("link", name="Training-hours export (CSV)").click()
        rows = download.value.path().read_text().splitlines()
        assert rows[0].startswith("change,") or "participant" in rows[0]
        assert sum("participant" in row and "name" in row for row in rows) == 1, "one header row"
        assert any("CA-100234" in row for row in rows[1:]), "Ana's hours, with her registry id"
    finally:
        admin.close()


def test_anyone_verifies_a_certificate_by_its_code(platform, desktop):
    # From the link the completions page (and the certificate) give, without signing in.
    desktop.page.goto(story["verify_link"])
    expect(desktop.page.get_by_role("heading", name="This certificate is genuine")).to_be_visible()
    completions = platform.api(
        "GET", f"{platform.scheduling}/cohorts/{story['cohort_id']}/completions", platform.token("jurisdiction_admin")
    )["items"]
    code = next(c["certificate_code"] for c in completions if c["participant"] == "dev-participant-ca")
    page = desktop.page
    page.goto("/verify")
    desktop.check()
    page.get_by_label("Code printed on the certificate").fill(code)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="This certificate is genuine")).to_be_visible()
    expect(page.locator("dl")).to_contain_text("Ana López")
    desktop.check("verify")
    page.goto("/verify/NOT-A-REAL-CODE")
    expect(page.get_by_role("alert")).to_contain_text("No certificate has this code")
    desktop.check()


def test_a_coach_logs_a_consultation(platform, desktop, phone, browser, screenshots):
    # Ana completed the training for trainers (the flows above): coaching opened her plan, with Sam as specialist.
    admin = platform.token("jurisdiction_admin")
    plans = wait_until(
        lambda: platform.api("GET", f"{platform.coaching}/plans?trainer=dev-participant-ca", admin)["items"],
        timeout=60,
        interval=0.3,
        message="coaching to open Ana's plan from her completion",
    )
    assert plans[0]["specialist"] == "dev-specialist-ca"
    today = datetime.now(ZoneInfo("UTC")).date()
    follow_up = (today + timedelta(days=7)).isoformat()

    page = desktop.page
    desktop.sign_in_as("Sam Specialist")
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    # Signing in told coaching the name he signs in with: Ana reads it on her commitment (below).
    known = platform.api("GET", f"{platform.coaching}/specialists?sub=dev-specialist-ca", platform.token("participant"))
    assert [s["name"] for s in known["items"]] == ["Sam Specialist"]
    row = page.get_by_role("row").filter(has_text="dev-participant-ca")
    expect(row).to_contain_text("On track")
    expect(row.get_by_role("rowheader")).to_contain_text("Ana López")  # her name as registered, her id beside
    desktop.check("caseload")

    # From the caseload row: the form starts filled in, Ana chosen.
    row.get_by_role("link", name="Log a support activity with Ana López").click()
    expect(page.get_by_role("heading", name="Log a support activity")).to_be_visible()
    expect(page.get_by_label("Trainer")).to_have_value("dev-participant-ca")
    expect(page.get_by_label("Kind")).to_have_value("consultation")
    expect(page.get_by_label("Date")).to_have_value(today.isoformat())
    expect(page.get_by_label("Minutes")).to_have_value("60")
    expect(page.get_by_label("Mode")).to_have_value("virtual")
    desktop.check("log-activity")

    # The API's refusal is shown next to its field, and what was typed stays.
    page.get_by_label("Minutes").fill("2000")
    page.get_by_label("Primary caregiving").check()
    page.get_by_label("Confidential notes").fill("Worried about finding a venue near the reservation.")
    page.get_by_role("button", name="Log the activity").click()
    expect(page.locator("#duration_minutes-error")).to_be_visible()
    expect(page.get_by_label("Minutes")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Primary caregiving")).to_be_checked()
    desktop.check()
    assert not platform.api("GET", f"{platform.coaching}/activities?trainer=dev-participant-ca", admin)["items"]

    page.get_by_label("Minutes").fill("45")
    page.get_by_label("Continuity of care").check()
    page.get_by_label("Next steps").fill("Book the community hall for the first session")
    page.get_by_label("Follow up on").fill(follow_up)
    page.get_by_role("button", name="Log the activity").click()
    # The trainer by the name she registered under, her id beside it; the day as every page shows days.
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana López trainer dev-participant-ca")
    [logged] = platform.api("GET", f"{platform.coaching}/activities?trainer=dev-participant-ca", admin)["items"]
    logged_on = datetime.fromisoformat(logged["occurred_on"]).strftime("%a %-d %b %Y")
    expect(page.get_by_role("status")).to_contain_text(f"Logged: consultation of {logged_on}.")
    activity = page.locator("ol.activities > li")
    expect(activity).to_have_count(1)
    expect(activity).to_contain_text("45 minutes, virtual, by Sam Specialist")  # her name, not her id
    expect(activity).to_contain_text("Primary caregiving, Continuity of care")
    expect(activity).to_contain_text("Worried about finding a venue")  # Sam wrote them: the API shows her the notes
    expect(page.locator("#commitment-heading")).to_be_visible()
    desktop.check("trainer")
    (logged,) = platform.api("GET", f"{platform.coaching}/activities?trainer=dev-participant-ca", admin)["items"]
    assert (logged["kind"], logged["duration_minutes"], logged["mode"], logged["follow_up_on"]) == (
        "consultation",
        45,
        "virtual",
        follow_up,
    )
    assert logged["author"] == "dev-specialist-ca" and logged["occurred_on"] == today.isoformat()

    # The time frame Ana, Sam and her host agency agreed: nine months instead of six.
    expect(page.locator(".commitment")).to_contain_text("Sam Specialist")  # her name (from her activity), not her id
    page.get_by_text("Record the agreed time frame").click()
    expect(page.get_by_label("The trainer")).to_have_value("Ana López")
    expect(page.get_by_label("The specialist")).to_have_value("Sam Specialist")
    page.get_by_label("Months to deliver").fill("9")
    page.get_by_role("button", name="Record the time frame").click()  # the host agency unnamed: refused
    expect(page.locator("#party_name-error")).to_be_visible()
    expect(page.get_by_label("Months to deliver")).to_have_value("9")
    page.get_by_label("Its name").fill("Bay Area Child Care Council")
    page.get_by_role("button", name="Record the time frame").click()
    expect(page.get_by_role("status")).to_contain_text("Time frame recorded.")
    expect(page.locator(".commitment")).to_contain_text("9 months, agreed")
    plans = platform.api("GET", f"{platform.coaching}/plans?trainer=dev-participant-ca", admin)["items"]
    agreed = plans[0]["commitment"]
    assert (agreed["time_frame_months"], [a["party"] for a in agreed["agreed_by"]]) == (
        9,
        ["participant", "specialist", "host_agency"],
    )

    # A fidelity observation of her delivery, in the cohort she facilitates (chosen for Sam), and her trend.
    series_id = platform.api("GET", f"{platform.scheduling}/cohorts", admin)["items"][0]["series_id"]
    delivery = {"series_id": series_id, "title": "Ana's first cohort", "format": "in_person", "capacity": 24}
    delivery = platform.api(
        "POST", f"{platform.scheduling}/cohorts", admin, json={**delivery, "facilitators": ["dev-participant-ca"]}
    )
    page.get_by_role("link", name="Record a fidelity observation").click()
    expect(page.locator("p.lead")).to_contain_text("Of Ana López delivering a session")
    expect(page.get_by_label("Cohort observed")).to_have_value(delivery["id"])
    desktop.check("observation")
    page.get_by_label("Session number").fill("1")
    page.get_by_role("textbox", name="Component 1").fill("Warm welcome")
    page.get_by_role("combobox", name="Decision for component 1").select_option("kept")
    page.get_by_role("textbox", name="Component 2").fill("Small-group practice")
    page.get_by_role("combobox", name="Decision for component 2").select_option("adapted")
    page.get_by_role("button", name="Record the observation").click()
    expect(page.get_by_role("status")).to_contain_text("a score of 75%")
    (observed,) = platform.api("GET", f"{platform.coaching}/observations?trainer=dev-participant-ca", admin)["items"]
    assert observed["cohort_id"] == delivery["id"]
    expect(page.get_by_role("region", name="Fidelity")).to_contain_text("Average 75% over 1 observation")

    page.get_by_role("link", name="Caseload").click()
    expect(page.get_by_role("row").filter(has_text="dev-participant-ca")).to_contain_text(
        datetime.fromisoformat(follow_up).strftime("%-d %b %Y")
    )
    page.get_by_role("link", name="Follow-ups due").click()
    expect(page.get_by_role("row").filter(has_text="dev-participant-ca")).to_be_visible()
    desktop.check("follow-ups")
    # Fran's adaptation waits for Sam's fidelity review.
    fran, sam = platform.token("facilitator", name="Fran Facilitator"), platform.token("specialist")
    series_id = platform.api("GET", f"{platform.scheduling}/cohorts/{story['cohort_id']}", admin)["series_id"]
    module = platform.api("GET", f"{platform.content}/series/{series_id}/modules", admin)["items"][0]
    title = "Session 1 for a tribal child care center"
    adaptation = platform.api(
        "POST",
        f"{platform.content}/adaptations",
        fran,
        json={
            "module_id": module["id"],
            "title": title,
            "components": [{"component": name, "decision": "kept"} for name in module["core_components"]],
        },
    )
    platform.api("POST", f"{platform.content}/adaptations/{adaptation['id']}/submit", fran)
    page.get_by_role("link", name="Adaptations").click()
    card = page.get_by_role("region", name=title)
    expect(card).to_contain_text(f"Module 1, {module['title']}: by Fran Facilitator")
    card.get_by_role("radio", name="Request changes").check()
    card.get_by_role("button", name="Send the review").click()  # changes requested without saying which
    expect(page.locator(f"#comments-{adaptation['id']}-error")).to_be_visible()
    desktop.check("adaptations")
    card = page.get_by_role("region", name=title)
    expect(card.get_by_role("radio", name="Request changes")).to_be_checked()
    card.get_by_label("Comments to the facilitator").fill("Keep the small-group practice in person.")
    card.get_by_role("button", name="Send the review").click()
    expect(page.get_by_role("status")).to_contain_text("Changes requested")
    expect(page.get_by_text("No adaptations are waiting for review.")).to_be_visible()
    reviewed = platform.api("GET", f"{platform.content}/adaptations/{adaptation['id']}", fran)
    assert reviewed["status"] == "changes_requested"
    assert [r["comments"] for r in reviewed["reviews"]] == ["Keep the small-group practice in person."]

    # Sam holds weekly office hours for Fran from the portal; Fran books a slot on hers; Sam sees it.
    page.get_by_role("link", name="Office hours").click()
    expect(page.get_by_text("You hold no office hours yet.")).to_be_visible()
    page.get_by_role("link", name="Hold office hours").click()
    start = (datetime.now(ZoneInfo("America/Los_Angeles")) + timedelta(days=2)).replace(
        hour=14, minute=0, second=0, microsecond=0
    )
    page.get_by_label("Title").fill("Sam's office hours")
    page.get_by_label("First office hours").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Time zone").select_option("America/Los_Angeles")
    page.get_by_label("Weeks").fill("4")
    page.get_by_role("button", name="Hold these office hours").click()
    expect(page.locator("#other_facilitators-error")).to_be_visible()  # nobody chosen to book: refused
    expect(page.get_by_label("Weeks")).to_have_value("4")  # what was typed stays
    # Fran is not in Sam's caseload: she is offered by name from the facilitators' directory.
    page.get_by_label("Fran Facilitator").check()
    desktop.check("hold-office-hours")
    page.get_by_role("button", name="Hold these office hours").click()
    expect(page.get_by_role("status")).to_contain_text("Office hours held: Sam's office hours, weekly for 4 weeks.")
    expect(page.get_by_role("heading", name="Sam's office hours")).to_be_visible()
    [office] = platform.api(
        "GET", f"{platform.scheduling}/recurring-series?kind=office_hours&owner=dev-specialist-ca", sam
    )["items"]
    assert (office["rrule"], office["slot_minutes"], office["supported_facilitators"]) == (
        "FREQ=WEEKLY;COUNT=4",
        30,
        ["dev-facilitator-ca"],
    )

    fran_pages = Pages(browser, platform, screenshots, PHONE)
    try:
        fran_pages.sign_in_as("Fran Facilitator")
        fran_page = fran_pages.page
        fran_page.goto("/my/office-hours")
        expect(fran_page.get_by_role("heading", name="Sam's office hours")).to_be_visible()
        first_slot = fran_page.locator("ol.slots > li").first
        first_slot.get_by_label("What to talk about").fill("My first delivery")
        first_slot.get_by_role("button", name="Book").click()
        expect(fran_page.get_by_role("status")).to_contain_text("Booked")
        expect(fran_page.locator("ol.slots > li").first).to_contain_text("Booked by you: My first delivery")
        fran_pages.check("my-office-hours")
        # A second slot, given back.
        fran_page.locator("ol.slots > li").nth(1).get_by_role("button", name="Book").click()
        expect(fran_page.locator("ol.slots > li").nth(1)).to_contain_text("Booked by you")
        fran_page.locator("ol.slots > li").nth(1).get_by_role("button", name="Cancel my booking").click()
        expect(fran_page.get_by_role("status")).to_contain_text("Your booking is cancelled")
        expect(fran_page.locator("ol.slots > li").nth(1).get_by_role("button", name="Book")).to_be_visible()
    finally:
        fran_pages.close()
    bookings = platform.api("GET", f"{platform.scheduling}/office-hours/{office['id']}/bookings", sam)["items"]
    assert sorted(b["status"] for b in bookings) == ["booked", "cancelled"]
    [booking] = [b for b in bookings if b["status"] == "booked"]
    assert (datetime.fromisoformat(booking["slot_start"]), booking["topic"]) == (start, "My first delivery")

    page.reload()
    booked = page.get_by_role("row").filter(has_text="My first delivery")
    expect(booked).to_have_count(1)
    expect(booked).to_contain_text("Fran Facilitator")  # her name as she signed in, not her id
    expect(page.get_by_role("row").filter(has_text="Open").first).to_be_visible()
    desktop.check("office-hours")

    phone.sign_in_as("Sam Specialist")
    expect(phone.page.get_by_role("row").filter(has_text="dev-participant-ca")).to_contain_text("On track")
    phone.check("caseload")

    # Another specialist of California sees the activity, never its notes.
    other = Pages(browser, platform, screenshots, DESKTOP)
    try:
        other.page.goto("/sign-in")
        other.page.get_by_label("Role").select_option("specialist")
        other.page.get_by_label("Jurisdiction code").fill("CA")
        other.page.get_by_label("User id").fill("dev-specialist-2-ca")
        other.page.get_by_role("button", name="Sign in", exact=True).click()
        other.page.goto("/coach/trainers/dev-participant-ca")
        expect(other.page.locator("ol.activities > li")).to_contain_text("45 minutes")
        expect(other.page.locator("ol.activities > li")).not_to_contain_text("Worried")
    finally:
        other.close()

    # Ana's own commitment.
    ana = Pages(browser, platform, screenshots, PHONE)
    try:
        ana.sign_in_as("Ana López")
        ana.page.get_by_role("link", name="My commitment").click()
        expect(ana.page.get_by_role("heading", name="My commitment")).to_be_visible()
        expect(ana.page.locator(".commitment")).to_contain_text("On track")
        due = datetime.fromisoformat(plans[0]["commitment"]["due_on"]).strftime("%-d %b %Y")
        expect(ana.page.locator(".commitment")).to_contain_text(
            f"due {datetime.fromisoformat(plans[0]['commitment']['due_on']).strftime('%a')} {due}"
        )
        # Her specialist by the name Sam signs in with, not a user id.
        expect(ana.page.locator(".commitment dt:has-text('Specialist') + dd")).to_have_text("Sam Specialist")
        ana.check("my-commitment")
    finally:
        ana.close()

    # She delivered it to her own center's staff outside the platform's cohorts: Sam records it by hand.
    page.goto("/coach/trainers/dev-participant-ca")
    page.get_by_text("Record a delivery by hand").click()
    page.get_by_role("button", name="Record the delivery").click()  # no evidence: refused beside it
    expect(page.locator("#evidence-error")).to_be_visible()
    page.get_by_label("Evidence").fill("Sign-in sheets of all nine sessions, sent by the center's director.")
    page.get_by_role("button", name="Record the delivery").click()
    expect(page.get_by_role("status")).to_contain_text("Delivery recorded")
    expect(page.locator(".commitment")).to_contain_text("Fulfilled")
    expect(page.get_by_text("Record a delivery by hand")).to_have_count(0)
    fulfilled = platform.api("GET", f"{platform.coaching}/plans?trainer=dev-participant-ca", admin)["items"][0]
    assert (fulfilled["commitment"]["status"], fulfilled["commitment"]["fulfilled_by"]) == ("fulfilled", "evidence")


def test_national_staff_approve_one_request_into_a_cohort_and_decline_another(platform, desktop):
    coordinator = platform.token("jurisdiction_admin")  # California's admin asks, for no agency in particular
    series = platform.api("GET", f"{platform.content}/series", coordinator)["items"][0]["id"]
    asked = [
        platform.api(
            "POST",
            f"{platform.scheduling}/requests",
            coordinator,
            json={"series_id": series, "format": "hybrid", "expected_participants": 24, "notes": note},
        )
        for note in ("Saturdays suit our family child care providers.", "A second request, sent by mistake.")
    ]
    page = desktop.page
    desktop.sign_in_as("Nat National")
    page.goto("/requests")
    desktop.check("requests-national")
    page.get_by_role("link", name="Approve or decline CA's request of").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Decide a training request")
    page.goto(f"/requests/{asked[0]['id']}/decision")
    expect(page.get_by_text("Saturdays suit our family child care providers.")).to_be_visible()
    expect(page.get_by_label("Seats")).to_have_value("24")  # the request's size unless changed
    page.get_by_role("button", name="Approve").click()  # no title: the API's error next to its field
    expect(page.locator("#title-error")).to_be_visible()
    desktop.check("request-decision-error")
    page.get_by_label("Title").fill("Relationship-Based Care, Sacramento 2027")
    page.get_by_label("Fran Facilitator").check()  # California's facilitators, by name
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").first).to_contain_text("Approved")
    expect(page.get_by_role("heading", level=1)).to_have_text("Relationship-Based Care, Sacramento 2027")
    approved = platform.api("GET", f"{platform.scheduling}/requests/{asked[0]['id']}", coordinator)
    assert approved["status"] == "approved" and approved["cohort_id"] in page.url
    cohort = platform.api("GET", f"{platform.scheduling}/cohorts/{approved['cohort_id']}", coordinator)
    assert cohort["facilitators"] == ["dev-facilitator-ca"]

    # Every jurisdiction's facilitators, each with its jurisdiction.
    page.get_by_role("link", name="Facilitators").click()
    expect(page.get_by_role("row").filter(has_text="Fran Facilitator")).to_contain_text("California")
    expect(page.get_by_role("button", name="Withdraw Fran Facilitator")).to_have_count(0)  # jurisdiction admins' task
    page.goto(f"/requests/{asked[1]['id']}/decision")
    page.get_by_label("Reason").fill("Sent twice; we keep the first.")
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("status").first).to_contain_text("Declined")
    declined = platform.api("GET", f"{platform.scheduling}/requests/{asked[1]['id']}", coordinator)
    assert (declined["status"], declined["decision_reason"]) == ("declined", "Sent twice; we keep the first.")


def virtual_cohort(platform, admin: str, title: str, capacity: int, starts: list[datetime], **settings) -> dict:
    """A virtual cohort of California's series made through the API, with one two-hour session per start."""
    series_id = platform.api("GET", f"{platform.scheduling}/cohorts/{story['cohort_id']}", admin)["series_id"]
    modules = platform.api("GET", f"{platform.content}/series/{series_id}/modules", admin)["items"]
    cohort = platform.api(
        "POST",
        f"{platform.scheduling}/cohorts",
        admin,
        json={"series_id": series_id, "title": title, "format": "virtual", "capacity": capacity, **settings},
    )
    for module, start in zip(modules, starts, strict=False):
        platform.api(
            "POST",
            f"{platform.scheduling}/cohorts/{cohort['id']}/sessions",
            admin,
            json={
                "module_id": module["id"],
                "module_position": module["position"],
                "title": module["title"],
                "meeting_url": "https://meet.example.org/rbc",
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=2)).isoformat(),
            },
        )
    return cohort


def test_an_admin_moves_one_session_and_cancels_another_with_a_reason(platform, desktop):
    admin = platform.token("jurisdiction_admin")
    first = (datetime.now(ZoneInfo("America/Los_Angeles")) + timedelta(days=20)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    cohort = virtual_cohort(platform, admin, "Relationship-Based Care, Fresno", 20, [first, first + timedelta(days=7)])
    page = desktop.page
    desktop.sign_in_as("Alex Admin")
    page.goto(f"/cohorts/{cohort['id']}")
    page.get_by_role("link", name="Change session 1").click()
    expect(page.get_by_label("New start")).to_have_value(first.strftime("%Y-%m-%dT%H:%M"))
    expect(page.get_by_label("Hours")).to_have_value("2")
    moved = first + timedelta(days=1, hours=3)
    page.get_by_label("New start").fill(moved.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Move the session").click()  # no reason: refused beside its field
    expect(page.locator("#reschedule_reason-error")).to_be_visible()
    expect(page.get_by_label("New start")).to_have_value(moved.strftime("%Y-%m-%dT%H:%M"))
    desktop.check("session-change-error")
    page.get_by_label("Why it moves").fill("The hall is taken that morning.")
    page.get_by_role("button", name="Move the session").click()
    expect(page.get_by_role("status").first).to_contain_text("Session 1 moved")

    page.get_by_role("link", name="Change session 2").click()
    page.get_by_label("Why it is cancelled").fill("Merged with session 1.")
    page.get_by_role("button", name="Cancel the session").click()
    expect(page.get_by_role("status").first).to_contain_text("Session 2 cancelled")
    expect(page.locator("tr.cancelled")).to_have_count(1)
    expect(page.locator("tr.cancelled")).to_contain_text("(cancelled)")
    desktop.check()

    sessions = platform.api("GET", f"{platform.scheduling}/cohorts/{cohort['id']}/sessions", admin)["items"]
    one, two = sorted(sessions, key=lambda s: s["module_position"])
    assert (datetime.fromisoformat(one["starts_at"]), one["sequence"], one["status"]) == (moved, 1, "scheduled")
    assert datetime.fromisoformat(one["ends_at"]) - datetime.fromisoformat(one["starts_at"]) == timedelta(hours=2)
    assert (two["status"], two["cancel_reason"]) == ("cancelled", "Merged with session 1.")

    # Its settings: more seats, details saved over the version read, registration closed and reopened, then cancelled.
    page.goto(f"/cohorts/{cohort['id']}")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Number of seats").fill("25")
    page.get_by_role("button", name="Save the seats").click()
    expect(page.get_by_role("status").first).to_contain_text("25 seats.")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Title").fill("Relationship-Based Care, Fresno (evenings)")
    page.get_by_label("Fran Facilitator").check()
    page.get_by_label("Others, by user id").fill("fac-guest-ca")  # one who has not signed in yet
    # Someone else renames it meanwhile: saving over their change is refused, the typed title kept.
    read = requests.get(f"{platform.scheduling}/cohorts/{cohort['id']}", headers={"Authorization": f"Bearer {admin}"})
    renamed = requests.patch(
        f"{platform.scheduling}/cohorts/{cohort['id']}",
        json={"title": "Relationship-Based Care, Fresno County"},
        headers={"Authorization": f"Bearer {admin}", "If-Match": read.headers["ETag"]},
        timeout=10,
    )
    assert renamed.status_code == 200, renamed.text
    page.get_by_role("button", name="Save the details").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone changed this cohort since you opened it")
    expect(page.get_by_label("Title")).to_have_value("Relationship-Based Care, Fresno (evenings)")
    expect(page.get_by_label("Fran Facilitator")).to_be_checked()
    expect(page.get_by_label("Others, by user id")).to_have_value("fac-guest-ca")
    desktop.check("cohort-settings-stale")
    page.get_by_role("button", name="Save the details").click()
    expect(page.get_by_role("status").first).to_contain_text("Cohort saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Relationship-Based Care, Fresno (evenings)")
    saved = platform.api("GET", f"{platform.scheduling}/cohorts/{cohort['id']}", admin)
    assert saved["facilitators"] == ["dev-facilitator-ca", "fac-guest-ca"]
    page.get_by_role("link", name="Settings").click()
    # Shown as chosen: the one the directory knows ticked by name, the other by user id.
    expect(page.get_by_label("Fran Facilitator")).to_be_checked()
    expect(page.get_by_label("Others, by user id")).to_have_value("fac-guest-ca")
    page.get_by_role("button", name="Close registration").click()
    expect(page.get_by_role("status").first).to_contain_text("Registration closed.")
    assert platform.api("GET", f"{platform.scheduling}/cohorts/{cohort['id']}", admin)["status"] == "closed"
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Reopen registration").click()
    expect(page.get_by_role("status").first).to_contain_text("Registration open again.")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Cancel the cohort").click()
    expect(page.locator("#reason-error")).to_be_visible()
    page.get_by_label("Why it is cancelled").fill("Too few registrations this season.")
    page.get_by_role("button", name="Cancel the cohort").click()
    expect(page.get_by_role("status").first).to_contain_text("Cohort cancelled")
    final = platform.api("GET", f"{platform.scheduling}/cohorts/{cohort['id']}", admin)
    assert (final["status"], final["capacity"], final["title"]) == (
        "cancelled",
        25,
        "Relationship-Based Care, Fresno (evenings)",
    )


def test_a_participant_finds_an_open_cohort_and_registers_herself(platform, desktop, browser, screenshots):
    admin = platform.token("jurisdiction_admin")
    starts = (datetime.now(ZoneInfo("America/Los_Angeles")) + timedelta(days=30)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    cohort = virtual_cohort(platform, admin, "Relationship-Based Care, Redding", 1, [starts])
    now = datetime.now(UTC)
    virtual_cohort(platform, admin, "Relationship-Based Care, Chico (ended)", 20, [starts - timedelta(days=45)])
    virtual_cohort(
        platform,
        admin,
        "Relationship-Based Care, Eureka (closed)",
        20,
        [starts],
        registration_closes_at=now.isoformat(),
    )
    opens = (starts - timedelta(days=10)).astimezone(UTC)
    virtual_cohort(
        platform,
        admin,
        "Relationship-Based Care, Yreka",
        20,
        [starts + timedelta(days=7)],
        registration_opens_at=opens.isoformat(),
    )
    page = desktop.page
    desktop.sign_in_as("Ana López")
    page.get_by_role("link", name="Find a training").click()
    card = page.locator("ol.trainings > li").filter(has_text="Relationship-Based Care, Redding")
    expect(card).to_contain_text("1 seat left")
    expect(card).to_contain_text(f"Next session: {starts.strftime('%a %-d %b %Y')}")
    # Not offered: a cohort whose sessions are all behind, or whose registration has closed.
    expect(page.locator("ol.trainings > li").filter(has_text="Chico")).to_have_count(0)
    expect(page.locator("ol.trainings > li").filter(has_text="Eureka")).to_have_count(0)
    # One whose registration opens later says when, and offers no registration yet.
    yreka = page.locator("ol.trainings > li").filter(has_text="Yreka")
    expect(yreka).to_contain_text(
        f"Registration opens {opens.astimezone(ZoneInfo('America/Los_Angeles')).strftime('%a %-d %b %Y')}"
    )
    expect(yreka.get_by_role("link")).to_have_count(0)
    desktop.check("trainings")
    # The cohort she facilitates is hers to deliver, not to register for.
    expect(page.locator("ol.trainings > li").filter(has_text="Ana's first cohort")).to_have_count(0)
    card.get_by_role("link", name="Register for Relationship-Based Care, Redding").click()
    expect(page.get_by_label("Your name")).to_have_value("Ana López")
    page.get_by_role("button", name="Register").click()  # no e-mail: the API's error beside its field
    expect(page.locator("#email-error")).to_be_visible()
    desktop.check("register-myself-error")
    page.get_by_label("Your e-mail").fill("ana.lopez@example.org")
    page.get_by_label("Language to write to you in").select_option("es")  # her confirmation comes in Spanish
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status").first).to_contain_text("You have a seat.")
    [mine] = [
        r
        for r in platform.api(
            "GET", f"{platform.scheduling}/me/registrations", platform.token("participant", sub="dev-participant-ca")
        )["items"]
        if r["cohort_id"] == cohort["id"]
    ]
    assert mine["language"] == "es"
    expect(page.get_by_role("row").filter(has_text="Relationship-Based Care, Redding")).to_contain_text("confirmed")
    # Her hours as her registry receives them, and training she took elsewhere, reported from her training page.
    page.get_by_role("link", name="My training hours").click()
    ana_token = platform.token("participant", sub="dev-participant-ca")
    [kept] = [
        row
        for row in platform.api("GET", f"{platform.scheduling}/training-hours", ana_token)["items"]
        if row["cohort_id"] == story["cohort_id"]
    ]
    here = page.get_by_role("row").filter(has_text="Relationship-Based Care, Bay Area 2027")
    expect(here).to_contain_text(f"{kept['hours']:g}")
    expect(here.get_by_role("cell").last).not_to_have_text("not yet")  # she completed it
    # Behind the hours, each session's mark, as her facilitator recorded it.
    marks = platform.api(
        "GET", f"{platform.scheduling}/me/attendance", ana_token, params={"cohort_id": story["cohort_id"]}
    )["items"]
    assert marks and round(sum(m["minutes"] for m in marks) / 60, 2) == kept["hours"]
    sessions = page.get_by_role("table", name="Relationship-Based Care, Bay Area 2027").locator("tbody tr")
    expect(sessions).to_have_count(len(marks))
    expect(sessions.first).to_contain_text(f"{marks[0]['module_position']}. {marks[0]['title']}")
    expect(sessions.first.get_by_role("cell").nth(1)).to_contain_text(marks[0]["status"])
    page.get_by_label("Training", exact=True).fill("Responsive caregiving in family child care")
    page.get_by_label("Provider").fill("Shasta County Office of Education")
    page.get_by_label("Hours").fill("1.5")
    page.get_by_role("button", name="Report it").click()  # no date: the API's error beside its field
    expect(page.locator("#completed_on-error")).to_be_visible()
    expect(page.get_by_label("Hours")).to_have_value("1.5")
    page.get_by_label("Completed on").fill((starts - timedelta(days=60)).strftime("%Y-%m-%d"))
    page.get_by_role("button", name="Report it").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Reported: Responsive caregiving in family child care, 1.5 hours."
    )
    expect(page.get_by_role("row").filter(has_text="Shasta County Office of Education")).to_contain_text("1.5")
    desktop.check("my-hours")
    [reported] = platform.api("GET", f"{platform.scheduling}/training-hours/self-reported", ana_token)["items"]
    assert (reported["minutes"], reported["provider"]) == (90, "Shasta County Office of Education")

    page.get_by_role("link", name="Find a training").click()
    expect(page.locator("ol.trainings > li").filter(has_text="Redding")).to_contain_text(
        "You are registered (confirmed)"
    )

    # The seat is taken: the next person joins the waitlist.
    ben = Pages(browser, platform, screenshots, PHONE)
    try:
        ben.page.goto("/sign-in")
        ben.page.get_by_label("Role").select_option("participant")
        ben.page.get_by_label("Jurisdiction code").fill("CA")
        ben.page.get_by_label("User id").fill("ben-cho-ca")
        ben.page.get_by_label("Display name").fill("Ben Cho")
        ben.page.get_by_role("button", name="Sign in", exact=True).click()
        ben.page.goto("/trainings")
        redding = ben.page.locator("ol.trainings > li").filter(has_text="Redding")
        expect(redding).to_contain_text("full: you would join the waitlist")
        redding.get_by_role("link", name="Register for Relationship-Based Care, Redding").click()
        ben.page.get_by_label("Your e-mail").fill("ben.cho@example.org")
        ben.page.get_by_role("button", name="Register").click()
        expect(ben.page.get_by_role("status").first).to_contain_text("you are number 1 on its waitlist")
        ben.check("my-training-waitlisted")
        # He cannot come after all: he leaves the waitlist from his training page.
        ben.page.get_by_role("button", name="Leave the waitlist for Relationship-Based Care, Redding").click()
        expect(ben.page.get_by_role("status").first).to_contain_text("Your registration is cancelled")
        expect(ben.page.get_by_role("row").filter(has_text="Redding")).to_contain_text("cancelled")
        expect(ben.page.get_by_role("button", name="Leave the waitlist")).to_have_count(0)
    finally:
        ben.close()
    registrations = platform.api("GET", f"{platform.scheduling}/cohorts/{cohort['id']}/registrations", admin)["items"]
    assert sorted((r["participant"], r["status"], r["source"]) for r in registrations) == [
        ("ben-cho-ca", "cancelled", "self"),
        ("dev-participant-ca", "confirmed", "self"),
    ]


def test_an_admin_adds_a_host_agency_its_venue_and_a_room(platform, desktop):
    page = desktop.page
    desktop.sign_in_as("Alex Admin")
    page.get_by_role("link", name="Agencies").click()
    expect(page.get_by_role("heading", name="Host agencies")).to_be_visible()
    page.get_by_role("button", name="Add the agency").click()  # no name: the API's error beside it
    expect(page.locator("#name-error")).to_be_visible()
    page.get_by_label("Name").fill("Redwood Early Learning")
    page.get_by_label("Coordinators").fill("coord-redwood")
    page.get_by_role("button", name="Add the agency").click()
    expect(page.get_by_role("status").first).to_contain_text("Host agency added: Redwood Early Learning.")
    page.get_by_label("Venue name").fill("Redwood Center")
    page.get_by_label("Address").fill("1 Redwood Way\nEureka, CA 95501")
    page.get_by_label("Time zone").select_option("America/Los_Angeles")
    page.get_by_role("button", name="Add the venue").click()
    expect(page.get_by_role("status").first).to_contain_text("Venue added: Redwood Center.")
    page.get_by_label("Room name").fill("Room A")
    page.get_by_role("button", name="Add the room").click()  # how many it holds is missing
    expect(page.locator("#capacity-error")).to_be_visible()
    expect(page.get_by_label("Room name")).to_have_value("Room A")
    page.get_by_label("People it holds").fill("30")
    page.get_by_label("Accessibility").fill("Step-free entrance")
    page.get_by_role("button", name="Add the room").click()
    expect(page.get_by_role("status").first).to_contain_text("Room added: Room A.")
    expect(page.get_by_role("region", name="Redwood Center")).to_contain_text("Room A: 30 people · Step-free entrance")
    desktop.check("agency")

    admin = platform.token("jurisdiction_admin")
    [agency] = [
        a
        for a in platform.api("GET", f"{platform.scheduling}/agencies", admin)["items"]
        if a["name"] == "Redwood Early Learning"
    ]
    [venue] = platform.api("GET", f"{platform.scheduling}/agencies/{agency['id']}/venues", admin)["items"]
    assert agency["coordinators"] == ["coord-redwood"]
    assert (venue["time_zone"], [(r["name"], r["capacity"]) for r in venue["rooms"]]) == (
        "America/Los_Angeles",
        [("Room A", 30)],
    )


def test_an_admin_finds_facilitators_by_name_and_enters_one_who_has_not_signed_in(platform, desktop):
    page = desktop.page
    desktop.sign_in_as("Alex Admin")
    page.get_by_role("link", name="Facilitators").click()
    expect(page.get_by_role("row").filter(has_text="Fran Facilitator")).to_contain_text("dev-facilitator-ca")
    page.get_by_label("Name contains").fill("nobody by this name")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_text("No facilitator's name contains “nobody by this name”.")).to_be_visible()
    page.get_by_label("User id").fill("auth0|keoni-kahale")
    page.get_by_role("button", name="Enter them").click()  # no name: the API's error beside it
    expect(page.locator("#name-error")).to_be_visible()
    expect(page.get_by_label("User id")).to_have_value("auth0|keoni-kahale")
    desktop.check("facilitators-error")
    page.get_by_label("Name", exact=True).fill("Keoni Kahale")
    page.get_by_role("button", name="Enter them").click()
    expect(page.get_by_role("status").first).to_contain_text("Keoni Kahale is listed")
    page.get_by_label("Name contains").fill("kahale")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("row").filter(has_text="Keoni Kahale")).to_contain_text("auth0|keoni-kahale")
    expect(page.get_by_role("row").filter(has_text="Fran Facilitator")).to_have_count(0)
    desktop.check("facilitators")
    # The forms that choose a cohort's facilitators offer him by name now.
    page.goto("/cohorts/new")
    expect(page.get_by_label("Keoni Kahale")).not_to_be_checked()
    admin = platform.token("jurisdiction_admin")
    listed = platform.api("GET", f"{platform.scheduling}/facilitators?q=kahale", admin)["items"]
    assert [(f["sub"], f["name"]) for f in listed] == [("auth0|keoni-kahale", "Keoni Kahale")]

    # He leaves: withdrawn, the forms stop offering him; offered again, they do.
    page.get_by_role("link", name="Facilitators").click()
    page.get_by_role("button", name="Withdraw Keoni Kahale").click()
    expect(page.get_by_role("status").first).to_contain_text("Keoni Kahale is withdrawn")
    expect(page.get_by_role("row").filter(has_text="Keoni Kahale")).to_contain_text("No: withdrawn")
    desktop.check("facilitators-withdrawn")
    page.goto("/cohorts/new")
    expect(page.get_by_label("Keoni Kahale")).to_have_count(0)
    expect(page.get_by_label("Fran Facilitator")).to_have_count(1)
    page.goto("/facilitators")
    page.get_by_role("button", name="Offer again Keoni Kahale").click()
    expect(page.get_by_role("status").first).to_contain_text("Keoni Kahale is listed")
    page.goto("/cohorts/new")
    expect(page.get_by_label("Keoni Kahale")).to_have_count(1)


def test_an_admin_enters_a_specialist_makes_her_the_default_and_assigns_her_to_a_trainer(
    platform, desktop, browser, screenshots
):
    page = desktop.page
    admin = platform.token("jurisdiction_admin")
    desktop.sign_in_as("Alex Admin")
    page.get_by_role("link", name="Specialists", exact=True).click()
    expect(page.get_by_role("row").filter(has_text="Sam Specialist")).to_contain_text("dev-specialist-ca")
    page.get_by_label("User id").fill("auth0|rosa-reyes")
    page.get_by_label("Name", exact=True).fill("Rosa Reyes")
    page.get_by_role("button", name="Enter them").click()
    expect(page.get_by_role("status").first).to_contain_text("Rosa Reyes is listed")
    desktop.check("specialists")

    # The default for new plans, chosen by name; a bad time frame is refused beside its field, the choice kept.
    page.get_by_role("link", name="Coaching settings").click()
    expect(page.get_by_label("Sam Specialist")).to_be_checked()
    page.get_by_label("Rosa Reyes").check()
    page.get_by_label("Months to deliver the training").fill("90")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#default_time_frame_months-error")).to_be_visible()
    expect(page.get_by_label("Rosa Reyes")).to_be_checked()
    desktop.check("coach-settings-error")
    assert platform.api("GET", f"{platform.coaching}/settings", admin)["default_specialist"] == "dev-specialist-ca"
    page.get_by_label("Months to deliver the training").fill("6")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved")
    desktop.check("coach-settings")
    settings = platform.api("GET", f"{platform.coaching}/settings", admin)
    assert (settings["default_specialist"], settings["default_time_frame_months"]) == ("auth0|rosa-reyes", 6)

    # The admin's caseload page: the trainers without a specialist first (none: the default named Sam), then Sam's.
    page.get_by_role("link", name="Caseload", exact=True).click()
    expect(page.get_by_role("heading", name="Trainers without a specialist")).to_be_visible()
    expect(page.get_by_text("Every trainer has a specialist.")).to_be_visible()
    page.get_by_label("Whose trainers").select_option(label="Sam Specialist")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Caseload of Sam Specialist")).to_be_visible()
    expect(page.get_by_role("link", name="Log a support activity")).to_have_count(0)  # admins do not log support
    desktop.check("caseload-admin")
    # Ana's specialist, chosen by name; her commitment names Rosa at once.
    page.get_by_role("link", name="Change the specialist of Ana López").click()
    expect(page.get_by_label("Sam Specialist")).to_be_checked()
    page.get_by_label("Rosa Reyes").check()
    page.get_by_role("button", name="Assign the specialist").click()
    expect(page.get_by_role("status").first).to_contain_text("The trainer's specialist is changed")
    expect(page.locator("section.commitment")).to_contain_text("Rosa Reyes")
    plans = platform.api("GET", f"{platform.coaching}/plans?trainer=dev-participant-ca", admin)["items"]
    assert ("auth0|rosa-reyes", "Rosa Reyes") in [(p["specialist"], p["specialist_name"]) for p in plans]

    # Rosa leaves: withdrawn, she is offered no more, and the plan and setting naming her show it until changed.
    page.get_by_role("link", name="Specialists", exact=True).click()
    page.get_by_role("button", name="Withdraw Rosa Reyes").click()
    expect(page.get_by_role("status").first).to_contain_text("Rosa Reyes is withdrawn")
    # Her trainers are found on the caseload page, to give them another specialist.
    page.get_by_role("link", name="Caseload", exact=True).click()
    page.get_by_label("Whose trainers").select_option(label="Rosa Reyes (withdrawn)")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name="Change the specialist of Ana López").click()
    expect(page.get_by_label("Rosa Reyes (withdrawn)")).to_be_checked()
    desktop.check("coach-specialist")
    page.get_by_label("Sam Specialist").check()
    page.get_by_role("button", name="Assign the specialist").click()
    expect(page.locator("section.commitment")).to_contain_text("Sam Specialist")
    page.goto("/coach/settings")
    expect(page.get_by_label("Rosa Reyes (withdrawn)")).to_be_checked()
    page.get_by_label("Sam Specialist").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved")
    assert platform.api("GET", f"{platform.coaching}/settings", admin)["default_specialist"] == "dev-specialist-ca"
    page.goto("/coach/settings")
    expect(page.get_by_label("Rosa Reyes")).to_have_count(0)

    # The jurisdiction's figures, as the API gives them, on a page and as CSV; national staff read them once
    # California consents to national roll-ups, and not before.
    summary = platform.api("GET", f"{platform.coaching}/reports/summary", admin)
    page.get_by_role("link", name="Coaching report").click()
    commitments = page.get_by_role("table", name="Commitments by status")
    for status, label in (
        ("overdue", "Overdue"),
        ("due_soon", "Due soon"),
        ("on_track", "On track"),
        ("fulfilled", "Fulfilled"),
    ):
        expect(commitments.get_by_role("row", name=label)).to_contain_text(
            str(summary["commitments_by_status"][status])
        )
    consultations = summary["activities_by_kind"]["consultation"]
    consultation = page.get_by_role("table", name="Support activities by kind").get_by_role("row", name="Consultation")
    expect(consultation.locator("td").nth(0)).to_have_text(str(consultations["count"]))
    expect(consultation.locator("td").nth(1)).to_have_text(f"{consultations['hours']:.1f}")
    desktop.check("coach-report")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    rows = download.value.path().read_text().splitlines()
    assert rows[0] == "jurisdiction,measure,key,value"
    assert f"CA,commitments,fulfilled,{summary['commitments_by_status']['fulfilled']}" in rows

    national = Pages(browser, platform, screenshots, DESKTOP)
    try:
        national.sign_in_as("Nat National")
        national.page.get_by_role("link", name="Coaching report").click()
        california = national.page.get_by_role("row").filter(
            has=national.page.get_by_role("rowheader", name="California", exact=True)
        )
        expect(california).to_contain_text("Withheld: no consent to national roll-ups")
        page.goto("/coach/settings")
        page.get_by_role("button", name="Include our figures in national roll-ups").click()
        expect(page.get_by_role("status").first).to_contain_text("National roll-ups now include")
        expect(page.get_by_role("button", name="Withdraw consent")).to_be_visible()
        desktop.check("coach-settings-consent")
        national.page.reload()
        expect(california).not_to_contain_text("Withheld")
        expect(california.locator("td").nth(3)).to_have_text(str(summary["commitments_by_status"]["fulfilled"]))
        national.check("coach-report-national")
    finally:
        national.close()


def test_the_coaching_admin_pages_read_on_a_phone(platform, phone):
    """The caseload, specialists, settings and report pages, and national staff's report, at a phone's width."""
    page = phone.page
    phone.sign_in_as("Alex Admin")
    for path, name in (
        ("/coach", "caseload-admin"),
        ("/coach/specialists", "specialists"),
        ("/coach/settings", "coach-settings"),
        ("/coach/report", "coach-report"),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        phone.check(f"{name}-phone")
    phone.sign_in_as("Nat National")
    page.goto("/coach/report")
    expect(page.get_by_role("heading", name="Coaching report: every jurisdiction")).to_be_visible()
    phone.check("coach-report-national-phone")


def test_a_facilitator_adapts_a_session_submits_it_and_revises_it_after_review(platform, desktop, phone):
    """Fran starts an adaptation, is held to a decision on every core component and a reason for each change,
    submits it; after Sam asks for a change she reads what to change, revises and submits revision 2."""
    page = desktop.page
    desktop.sign_in_as("Fran Facilitator")
    page.get_by_role("link", name="My adaptations").click()
    desktop.check("my-adaptations")
    page.get_by_role("button", name="Start the draft").click()  # nothing chosen: refused beside the fields
    expect(page.locator("#module_id-error")).to_be_visible()
    expect(page.locator("#title-error")).to_be_visible()
    admin = platform.token("jurisdiction_admin")
    series_id = platform.api("GET", f"{platform.scheduling}/cohorts/{story['cohort_id']}", admin)["series_id"]
    module = platform.api("GET", f"{platform.content}/series/{series_id}/modules", admin)["items"][2]
    page.get_by_label("Module (session)").select_option(module["id"])
    page.get_by_label("Title").fill("Primary caregiving for evening cohorts")
    page.get_by_label("Who it is for").fill("Family child care providers who train in the evening")
    page.get_by_role("button", name="Start the draft").click()
    expect(page.get_by_role("status")).to_contain_text("Draft saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Primary caregiving for evening cohorts")
    expect(page.locator("p.lead")).to_contain_text(f"module 3, {module['title']}")
    adaptation_url = page.url

    components = module["core_components"]
    first, second = (page.get_by_role("group", name=name, exact=True) for name in components[:2])
    first.get_by_label("Kept as written").check()
    second.get_by_label("Adapted", exact=True).check()  # adapted, without saying why
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.locator("#rationale_1-error")).to_have_text("Say why this component is adapted or dropped.")
    expect(second.get_by_label("Adapted", exact=True)).to_be_checked()  # what was chosen stays
    desktop.check("my-adaptation-errors")
    second.get_by_label("Why").fill("Two shorter activities fit a 90-minute evening session.")
    page.get_by_role("button", name="Save and submit for review").click()  # the other components undecided
    expect(page.locator(".error-summary")).to_contain_text("Saved as a draft, not submitted")
    expect(page.locator("#decision_2-error")).to_be_visible()
    mine = platform.api(
        "GET", page.url.replace(platform.portal + "/my", platform.content), platform.token("facilitator")
    )
    assert (mine["status"], [c["decision"] for c in mine["components"]]) == ("draft", ["kept", "adapted"])
    for name in components[2:]:
        page.get_by_role("group", name=name, exact=True).get_by_label("Kept as written").check()
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.get_by_role("status")).to_contain_text("Submitted: a specialist of your jurisdiction reviews it")
    expect(page.locator(".adaptation-status")).to_have_text("Waiting for review")
    expect(page.get_by_role("button", name="Save and submit for review")).to_have_count(0)  # it waits, unchanged

    # Sam asks for a change (his review page is the coach flow's); Fran reads it and revises.
    adaptation_id = adaptation_url.rsplit("/", 1)[-1]
    checklist = platform.api("GET", f"{platform.content}/adaptations/fidelity-checklist", admin)["items"]
    platform.api(
        "POST",
        f"{platform.content}/adaptations/{adaptation_id}/reviews",
        platform.token("specialist"),
        json={
            "decision": "changes_requested",
            "checklist": [
                {"item": item, "met": index != 5, "comment": "No time left for the debrief." if index == 5 else ""}
                for index, item in enumerate(checklist)
            ],
            "comments": "Keep one full learning activity with its debrief.",
        },
    )
    page.get_by_role("link", name="My adaptations", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Primary caregiving for evening cohorts")
    expect(row).to_contain_text("Changes requested")
    row.get_by_role("link").click()
    asked = page.get_by_role("region", name="What the specialist asks you to change")
    expect(asked).to_contain_text("Keep one full learning activity with its debrief.")
    expect(asked).to_contain_text("No time left for the debrief.")
    desktop.check("my-adaptation-changes-requested")
    second = page.get_by_role("group", name=components[1], exact=True)
    second.get_by_label("Why").fill("One full activity with its debrief; the second moves to the worksheet.")
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.get_by_role("status")).to_contain_text("Submitted")
    revised = platform.api("GET", f"{platform.content}/adaptations/{adaptation_id}", platform.token("facilitator"))
    assert (revised["status"], revised["revision"]) == ("submitted", 2)
    assert revised["components"][1]["rationale"].startswith("One full activity")

    phone.sign_in_as("Fran Facilitator")
    phone.page.goto(adaptation_url)
    expect(phone.page.get_by_role("heading", name="Reviews")).to_be_visible()
    phone.check("my-adaptation-phone")

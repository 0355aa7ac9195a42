"""A learning community member's pages in the portal, against the running content and scheduling APIs.

A community is convened and peopled through content's API (as staff would); then each person uses the
portal's pages with a signed-in session of their own.
"""

from __future__ import annotations

import html
import re

import pytest
import requests
from playwright.sync_api import expect

from services.portal.backend import Backend, BackendError
from shared.testing import wait_until
from tests.portal.conftest import DESKTOP, PHONE, Platform
from tests.portal.test_browser_flows import Pages

pytestmark = pytest.mark.timeout(600)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def portal_session(platform: Platform, role: str, tenant: str, sub: str, name: str, zone: str = "") -> requests.Session:
    """A person signed in to the portal with the development sign-in (``zone``: their browser's time zone)."""
    session = requests.Session()
    page = session.get(f"{platform.portal}/sign-in", timeout=30).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = session.post(
        f"{platform.portal}/sign-in",
        data={"role": role, "tenant": tenant, "sub": sub, "name": name, "zone": zone, "csrf_token": csrf},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    session.csrf = re.search(r'name="csrf-token" content="([^"]+)"', answer.text).group(1)
    return session


def convene(platform: Platform) -> tuple[str, str]:
    staff = platform.token("national_admin", "US", sub="rosa-staff", name="Rosa Staff")
    community = platform.api(
        "POST",
        f"{platform.content}/communities",
        staff,
        json={
            "title": "Infant/Toddler Specialist Networks",
            "focus_area": "specialist_networks",
            "goals": ["Map each network's reach"],
            "starts_on": "2027-06-16",
            "facilitators": [{"sub": "rosa-staff", "name": "Rosa Staff"}],
        },
    )["id"]
    for member in (
        {"sub": "ana-ruiz", "kind": "team_member", "jurisdiction": "CA", "name": "Ana Ruiz"},
        {"sub": "cruz-lee", "kind": "team_member", "jurisdiction": "TX", "name": "Cruz Lee"},
    ):
        platform.api("POST", f"{platform.content}/communities/{community}/members", staff, json=member)
    return community, staff


def test_a_member_takes_part_through_the_pages_and_a_stranger_finds_nothing(platform):
    community, staff = convene(platform)
    ana = portal_session(platform, "specialist", "CA", "ana-ruiz", "Ana Ruiz")
    cruz = portal_session(platform, "specialist", "TX", "cruz-lee", "Cruz Lee")

    listed = ana.get(f"{platform.portal}/communities", timeout=30)
    assert listed.status_code == 200 and "Infant/Toddler Specialist Networks" in listed.text
    assert f"/communities/{community}" in listed.text

    # A thread refused by the API shows its field error next to the field, and nothing is written.
    base = f"{platform.portal}/communities/{community}"
    refused = ana.post(base, data={"title": "", "body": "x", "csrf_token": ana.csrf}, timeout=30)
    assert refused.status_code == 200
    assert 'id="title-error"' in refused.text and 'aria-invalid="true"' in refused.text
    assert platform.api("GET", f"{platform.content}/communities/{community}/threads", staff)["items"] == []

    started = ana.post(
        base, data={"title": "Caseloads", "body": "How many programs each?", "csrf_token": ana.csrf}, timeout=30
    )
    assert started.status_code == 200 and "How many programs each?" in started.text
    thread_url = started.url
    empty_reply = cruz.post(thread_url, data={"body": "", "csrf_token": cruz.csrf}, timeout=30)
    assert 'id="body-error"' in empty_reply.text
    replied = cruz.post(thread_url, data={"body": "Twelve each in Texas.", "csrf_token": cruz.csrf}, timeout=30)
    assert "Twelve each in Texas." in replied.text and "Cruz Lee" in replied.text and "Replies (1)" in replied.text
    # Ana follows the thread she started; she stops, and the API knows it.
    assert "You follow this thread" in ana.get(thread_url, timeout=30).text
    stopped = ana.post(f"{thread_url}/follow", data={"follow": "no", "csrf_token": ana.csrf}, timeout=30)
    assert "You do not follow this thread" in stopped.text
    follow_api = f"{platform.content}/communities/{community}/threads/{thread_url.rsplit('/', 1)[1]}/follow"
    ana_token = platform.token("specialist", "CA", sub="ana-ruiz")
    assert platform.api("GET", follow_api, ana_token)["following"] is False
    space = ana.get(base, timeout=30)
    assert "Caseloads" in space.text and "1 reply" in space.text
    assert int(space.headers["X-API-Calls"]) <= 3

    # Documents: a file the community wrote.
    posted = cruz.post(
        f"{base}/documents",
        data={"source": "file", "title": "Texas network map", "csrf_token": cruz.csrf},
        files={"file": ("map.pdf", PDF, "application/pdf")},
        timeout=30,
    )
    assert posted.status_code == 200 and "Texas network map" in posted.text and "map.pdf" in posted.text
    no_file = cruz.post(f"{base}/documents", data={"source": "file", "title": "", "csrf_token": cruz.csrf}, timeout=30)
    assert "error-summary" in no_file.text
    assert int(posted.headers["X-API-Calls"]) <= 3
    (document,) = platform.api("GET", f"{platform.content}/communities/{community}/documents", staff)["items"]
    downloaded = ana.get(f"{base}/documents/{document['id']}/download", timeout=30)
    assert downloaded.status_code == 200 and downloaded.content == PDF
    assert downloaded.headers["Content-Type"] == "application/pdf"
    assert downloaded.headers["Content-Disposition"].startswith("attachment")

    # The work plan: add a goal owned by Cruz, then move it along.
    plan = ana.post(
        f"{base}/work-plan",
        data={
            "kind": "goal",
            "title": "Map each network's reach",
            "owner": "cruz-lee",
            "due_on": "2027-09-30",
            "csrf_token": ana.csrf,
        },
        timeout=30,
    )
    assert "Map each network" in plan.text and "Cruz Lee" in plan.text and "2027-09-30" in plan.text
    bad_due = ana.post(
        f"{base}/work-plan", data={"kind": "task", "title": "x", "due_on": "soon", "csrf_token": ana.csrf}, timeout=30
    )
    assert 'id="due_on-error"' in bad_due.text
    (item,) = platform.api("GET", f"{platform.content}/communities/{community}/work-items", staff)["items"]
    moved = cruz.post(
        f"{base}/work-plan/{item['id']}/status", data={"status": "in_progress", "csrf_token": cruz.csrf}, timeout=30
    )
    assert moved.status_code == 200
    assert (
        platform.api("GET", f"{platform.content}/communities/{community}/work-items/{item['id']}", staff)["status"]
        == "in_progress"
    )

    members = ana.get(f"{base}/members", timeout=30)
    assert "Ana Ruiz" in members.text and "Cruz Lee" in members.text and "Rosa Staff" in members.text
    assert "Nothing recorded" in members.text

    # California's administrator reads the space (a member jurisdiction) but is no member to follow a thread.
    ca_admin = portal_session(platform, "jurisdiction_admin", "CA", "ca-admin", "Alex Admin")
    read = ca_admin.get(thread_url, timeout=30)
    assert read.status_code == 200 and "Twelve each in Texas." in read.text
    refused = ca_admin.post(f"{thread_url}/follow", data={"follow": "yes", "csrf_token": ca_admin.csrf}, timeout=30)
    assert refused.status_code == 403 and "Not allowed" in refused.text and "Traceback" not in refused.text

    # Someone of another jurisdiction, not a member: a plain "Not found" for every page of the space.
    stranger = portal_session(platform, "specialist", "NY", "ny-person", "Nia York")
    assert "Infant/Toddler Specialist Networks" not in stranger.get(f"{platform.portal}/communities", timeout=30).text
    for path in (
        "",
        "/documents",
        f"/documents/{document['id']}/download",
        "/work-plan",
        "/members",
        thread_url.split(community)[1],
    ):
        page = stranger.get(base + path, timeout=30)
        assert page.status_code == 404 and "Not found" in page.text, path
        assert "Caseloads" not in page.text and "Traceback" not in page.text


def test_a_published_synthesis_is_read_by_any_jurisdiction(platform):
    community, staff = convene(platform)
    ana_token = platform.token("specialist", "CA", sub="ana-ruiz", name="Ana Ruiz")
    thread = platform.api(
        "POST",
        f"{platform.content}/communities/{community}/threads",
        ana_token,
        json={"title": "Caseloads", "body": "A dozen programs per specialist."},
    )
    product = platform.api(
        "POST",
        f"{platform.content}/communities/{community}/knowledge-products",
        staff,
        json={"source_kind": "thread", "source_id": thread["id"], "note": "A caseload norm"},
    )
    synthesis = platform.api(
        "POST",
        f"{platform.content}/communities/{community}/syntheses",
        staff,
        json={"title": "What the networks learnt", "summary": "About a dozen.", "knowledge_products": [product["id"]]},
    )
    platform.api("POST", f"{platform.content}/communities/{community}/syntheses/{synthesis['id']}/publish", staff)

    reader = portal_session(platform, "jurisdiction_admin", "NY", "ny-admin", "Noor Admin")
    listed = reader.get(f"{platform.portal}/syntheses", timeout=30)
    assert "What the networks learnt" in listed.text
    shown = reader.get(f"{platform.portal}/syntheses/{synthesis['id']}", timeout=30)
    assert shown.status_code == 200 and "About a dozen." in shown.text
    # California recorded nothing: its contribution appears without attribution.
    assert "From a member jurisdiction" in shown.text and "From CA" not in shown.text
    assert reader.get(f"{platform.portal}/communities/{community}", timeout=30).status_code == 404


def test_staff_convene_and_a_member_takes_part_in_chromium(browser, platform, screenshots):
    """Every page of the flow passes axe (no serious or critical violation) at phone and desktop widths."""
    staff_pages = Pages(browser, platform, screenshots, DESKTOP)
    page = staff_pages.page
    staff_pages.sign_in_as("Nat National")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Communities").click()
    expect(page.get_by_role("heading", name="Learning communities")).to_be_visible()
    staff_pages.check("communities-staff")
    page.get_by_role("link", name="Convene a community").click()
    page.get_by_label("Title").fill("Quality Rating Systems Community")
    page.get_by_role("button", name="Convene").click()  # no focus area, no start week
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#focus_area-error")).to_have_text("Choose the focus area.")
    page.get_by_label("Title").fill("")
    page.get_by_label("Focus area").select_option("quality_rating_systems")
    page.get_by_label("Start week").fill("2027-01-06")
    page.get_by_role("button", name="Convene").click()  # no title: the API's own error, next to its field
    expect(page.locator("#title-error")).to_be_visible()
    staff_pages.check("community-new-errors")
    page.get_by_label("Title").fill("Quality Rating Systems Community")
    page.get_by_label("Focus area").select_option("quality_rating_systems")
    page.get_by_label("Start week").fill("2027-01-06")
    page.get_by_label("Goals").fill("Share rating criteria for infant rooms\nAlign coaching with ratings")
    page.get_by_role("button", name="Convene").click()
    expect(page.get_by_role("heading", name="Quality Rating Systems Community")).to_be_visible()
    community = page.url.rstrip("/").split("/")[-1]
    staff_pages.close()

    staff = platform.token("national_admin", "US")
    for member in (
        {"sub": "dev-participant-ca", "kind": "team_member", "jurisdiction": "CA", "name": "Ana López"},
        {"sub": "gina-cruz", "kind": "team_member", "jurisdiction": "GU", "name": "Gina Cruz"},
    ):
        platform.api("POST", f"{platform.content}/communities/{community}/members", staff, json=member)
    calls = f"{platform.scheduling}/communities/{community}/calls"
    wait_until(  # scheduling learns of the community from content's events
        lambda: requests.get(calls, headers={"Authorization": f"Bearer {staff}"}, timeout=10).status_code == 200,
        timeout=60,
        interval=0.2,
        message="scheduling to know the community",
    )
    platform.api(
        "POST",
        calls,
        staff,
        json={
            "kind": "interactive_call",
            "title": "Monthly community call",
            "agenda": "Introductions\nState updates",
            "local_start": "2027-01-12T14:00:00",
            "rrule": "FREQ=MONTHLY;BYDAY=2TU;COUNT=12",
            "meeting_url": "https://meet.example.org/qrs",
        },
    )

    member = Pages(browser, platform, screenshots, PHONE)
    page = member.page
    member.sign_in_as("Ana López")
    page.get_by_role("link", name="Communities").click()
    member.check("communities")
    page.get_by_role("link", name="Quality Rating Systems Community").click()
    expect(page.get_by_role("heading", name="Monthly community call").first).to_be_visible()
    member.check("community")
    page.get_by_label("Title").fill("Rating infant rooms")
    page.get_by_label("Message").fill("Which criteria do your raters use for infant rooms?")
    page.get_by_role("button", name="Start the thread").click()
    expect(page.get_by_role("heading", name="Rating infant rooms")).to_be_visible()
    page.get_by_role("button", name="Reply").click()  # empty: the API's error next to the field
    expect(page.locator("#body-error")).to_be_visible()
    member.check("thread-error")
    page.get_by_label("Your reply").fill("We use the environment rating scale, adapted.")
    page.get_by_role("button", name="Reply").click()
    expect(page.get_by_text("We use the environment rating scale, adapted.")).to_be_visible()
    member.check("thread")

    page.get_by_role("link", name="Back to the community").click()
    page.get_by_role("navigation", name="This community").get_by_role("link", name="Documents").click()
    page.get_by_label("Title").fill("Our rating criteria")
    page.get_by_label("File", exact=False).and_(page.locator("input[type=file]")).set_input_files(
        files=[{"name": "criteria.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_role("cell", name="criteria.pdf")).to_be_visible()
    member.check("documents")

    page.get_by_role("link", name="Work plan").click()
    page.get_by_label("Kind").select_option("goal")
    page.get_by_label("Title").fill("Share rating criteria")
    page.get_by_label("Owner").select_option("dev-participant-ca")
    page.get_by_label("Due on").fill("2027-04-30")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("heading", name="Goal: Share rating criteria")).to_be_visible()
    page.get_by_label("Status of Share rating criteria").select_option("in_progress")
    page.get_by_role("button", name="Update Share rating criteria").click()
    expect(page.get_by_label("Status of Share rating criteria")).to_have_value("in_progress")
    member.check("work-plan")

    page.get_by_role("link", name="Members").click()
    expect(page.get_by_role("cell", name="Gina Cruz")).to_be_visible()
    member.check("members")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Syntheses").click()
    member.check("syntheses")

    # The same pages at desktop width, for their screenshots and the axe check there too.
    wide = Pages(browser, platform, screenshots, DESKTOP)
    wide.sign_in_as("Ana López")
    for name, path in (
        ("communities", "/communities"),
        ("community", f"/communities/{community}"),
        ("documents", f"/communities/{community}/documents"),
        ("work-plan", f"/communities/{community}/work-plan"),
        ("members", f"/communities/{community}/members"),
    ):
        wide.page.goto(path)
        wide.check(name)
    wide.close()
    member.close()


def scheduling_knows(platform: Platform, community: str, staff: str) -> str:
    """Scheduling learns of a community from content's events: wait for it, and give the calls' API address."""
    calls = f"{platform.scheduling}/communities/{community}/calls"
    wait_until(
        lambda: requests.get(calls, headers={"Authorization": f"Bearer {staff}"}, timeout=10).status_code == 200,
        timeout=60,
        interval=0.2,
        message="scheduling to know the community",
    )
    return calls


def test_staff_add_a_member_schedule_a_series_and_keep_a_calls_minutes_and_attendance(platform):
    community, staff = convene(platform)
    calls_api = scheduling_knows(platform, community, staff)
    rosa = portal_session(platform, "national_admin", "US", "rosa-staff", "Rosa Staff")
    ana = portal_session(platform, "specialist", "CA", "ana-ruiz", "Ana Ruiz")
    base = f"{platform.portal}/communities/{community}"

    # Members: a team member needs a jurisdiction (the API's error, next to its field), then is added.
    page = rosa.get(f"{base}/members", timeout=30)
    assert "Add a member" in page.text and int(page.headers["X-API-Calls"]) <= 3
    assert "Add a member" not in ana.get(f"{base}/members", timeout=30).text
    no_kind = rosa.post(f"{base}/members", data={"sub": "gina-cruz", "csrf_token": rosa.csrf}, timeout=30)
    assert 'id="kind-error"' in no_kind.text
    refused = rosa.post(
        f"{base}/members",
        data={"kind": "team_member", "sub": "gina-cruz", "name": "Gina Cruz", "csrf_token": rosa.csrf},
        timeout=30,
    )
    assert refused.status_code == 200 and 'id="jurisdiction-error"' in refused.text
    assert 'value="gina-cruz"' in refused.text  # what was typed is kept
    added = rosa.post(
        f"{base}/members",
        data={
            "kind": "team_member",
            "sub": "gina-cruz",
            "name": "Gina Cruz",
            "jurisdiction": "gu",
            "csrf_token": rosa.csrf,
        },
        timeout=30,
    )
    assert "gina-cruz was added" in added.text and "Gina Cruz" in added.text
    members = platform.api("GET", f"{platform.content}/communities/{community}/members", staff)["items"]
    assert {"sub": "gina-cruz", "jurisdiction": "GU"}.items() <= next(
        m for m in members if m["sub"] == "gina-cruz"
    ).items()
    # A member who is not staff is refused by the API, whatever the page offers.
    outsider = ana.post(
        f"{base}/members", data={"kind": "guest_expert", "sub": "x-y", "csrf_token": ana.csrf}, timeout=30
    )
    assert outsider.status_code == 403 and "Not allowed" in outsider.text

    # Calls: a monthly series on the 2nd Tuesday from a plain form; what the API refuses shows by its field.
    calls_page = f"{base}/calls"
    assert "Schedule a call or a series" not in ana.get(calls_page, timeout=30).text
    form = {
        "kind": "interactive_call",
        "title": "Monthly community call",
        "local_start": "2027-01-12T14:00",
        "duration_minutes": "50",
        "repeat": "monthly",
        "count": "12",
        "meeting_url": "",
        "agenda": "Introductions",
        "csrf_token": rosa.csrf,
    }
    no_link = rosa.post(calls_page, data=form, timeout=30)
    assert no_link.status_code == 200 and 'id="meeting_url-error"' in no_link.text
    no_count = rosa.post(
        calls_page, data={**form, "count": "", "meeting_url": "https://meet.example.org/c"}, timeout=30
    )
    assert 'id="count-error"' in no_count.text
    assert platform.api("GET", calls_api, staff)["items"] == []
    made = rosa.post(calls_page, data={**form, "meeting_url": "https://meet.example.org/c"}, timeout=30)
    assert made.status_code == 200 and "12 calls were scheduled" in made.text
    assert int(made.headers["X-API-Calls"]) <= 3
    series = platform.api("GET", calls_api, staff)["items"]
    assert len(series) == 12 and set(series[0]["rrule"].split(";")) == {"FREQ=MONTHLY", "BYDAY=2TU", "COUNT=12"}
    assert [c["local_start"][:10] for c in series[:3]] == ["2027-01-12", "2027-02-09", "2027-03-09"]
    # A member in California reads each call in her own time first, then as it was scheduled.
    pacific = portal_session(platform, "specialist", "CA", "ana-ruiz", "Ana Ruiz", zone="America/Los_Angeles")
    listed = pacific.get(calls_page, timeout=30).text
    first = series[0]
    assert "Tue 12 Jan 2027, 11:00 AM PST (your time; 2:00 PM EST as scheduled)" in listed, first
    assert "(your time)" not in ana.get(calls_page, timeout=30).text  # no zone known: as scheduled only

    # A face-to-face meeting that has started: its place comes from the form, and attendance is open.
    meeting = platform.api(
        "POST",
        calls_api,
        staff,
        json={
            "kind": "face_to_face",
            "title": "Kick-off meeting",
            "local_start": "2026-01-06T09:00:00",
            "place": {"venue": "Hall", "address": "1 Main St"},
        },
    )["calls"][0]
    call_page = f"{base}/calls/{meeting['id']}"
    shown = rosa.get(call_page, timeout=30)
    assert shown.status_code == 200 and "Hall" in shown.text and int(shown.headers["X-API-Calls"]) <= 3
    assert "Save attendance" in shown.text and "Save attendance" not in ana.get(call_page, timeout=30).text
    etag = html.unescape(re.search(r'name="etag" value="([^"]+)"', shown.text).group(1))
    saved = rosa.post(
        call_page,
        data={"action": "notes", "etag": etag, "agenda": "Welcome", "minutes": "We met.", "csrf_token": rosa.csrf},
        timeout=30,
    )
    assert "The agenda and minutes were saved." in saved.text
    assert platform.api("GET", f"{platform.scheduling}/community-calls/{meeting['id']}", staff)["minutes"] == "We met."
    # Saved over an older read: refused, the person's text kept, nothing overwritten.
    stale = rosa.post(
        call_page,
        data={"action": "notes", "etag": etag, "agenda": "Welcome", "minutes": "Older text", "csrf_token": rosa.csrf},
        timeout=30,
    )
    assert "Someone saved this call since you opened it" in stale.text and "Older text" in stale.text
    assert platform.api("GET", f"{platform.scheduling}/community-calls/{meeting['id']}", staff)["minutes"] == "We met."
    assert "We met." in ana.get(call_page, timeout=30).text  # members read the minutes

    nothing = rosa.post(call_page, data={"action": "attendance", "csrf_token": rosa.csrf}, timeout=30)
    assert "Mark at least one member present or absent." in nothing.text
    marked = rosa.post(
        call_page,
        data={"action": "attendance", "mark-ana-ruiz": "present", "mark-cruz-lee": "absent", "csrf_token": rosa.csrf},
        timeout=30,
    )
    assert "Attendance saved." in marked.text
    marks = platform.api("GET", f"{platform.scheduling}/community-calls/{meeting['id']}/attendance", staff)["marks"]
    assert {m["person"]: m["status"] for m in marks} == {"ana-ruiz": "present", "cruz-lee": "absent"}
    assert re.search(r"Ana Ruiz</td><td>Present", ana.get(call_page, timeout=30).text)
    # A call of the future takes no attendance yet: the page says so instead of offering the form.
    assert "Attendance is taken from 30 minutes before" in rosa.get(f"{base}/calls/{series[0]['id']}", timeout=30).text
    # Another community's address for this call: Not found.
    other, _ = convene(platform)
    assert rosa.get(f"{platform.portal}/communities/{other}/calls/{meeting['id']}", timeout=30).status_code == 404


def test_the_community_page_shows_the_work_plan_summary_and_gives_the_calendar_feed_link(platform):
    community, staff = convene(platform)
    scheduling_knows(platform, community, staff)
    ana_token = platform.token("specialist", "CA", sub="ana-ruiz")
    for body in (
        {"kind": "goal", "title": "Map each network's reach", "due_on": "2099-09-30"},
        {"kind": "task", "title": "Survey the networks", "due_on": "2020-01-31"},
    ):
        platform.api("POST", f"{platform.content}/communities/{community}/work-items", ana_token, json=body)
    ana = portal_session(platform, "specialist", "CA", "ana-ruiz", "Ana Ruiz")
    space = ana.get(f"{platform.portal}/communities/{community}", timeout=30)
    assert space.status_code == 200 and int(space.headers["X-API-Calls"]) <= 3
    assert "1 goal and 1 task: 2 open" in space.text and "1 overdue" in space.text
    assert "Next due: Map each network&#39;s reach, on 2099-09-30." in space.text

    feed_page = ana.post(
        f"{platform.portal}/communities/{community}/calendar-feed", data={"csrf_token": ana.csrf}, timeout=30
    )
    assert feed_page.status_code == 200 and int(feed_page.headers["X-API-Calls"]) == 1
    feed = re.search(r'id="feed-url"[^>]*value="([^"]+)"', feed_page.text).group(1)
    assert f"/communities/{community}/calendar.ics?token=" in feed
    calendar = requests.get(html.unescape(feed), timeout=10)
    assert calendar.status_code == 200 and calendar.text.startswith("BEGIN:VCALENDAR")
    stranger = portal_session(platform, "specialist", "NY", "ny-person", "Nia York")
    refused = stranger.post(
        f"{platform.portal}/communities/{community}/calendar-feed", data={"csrf_token": stranger.csrf}, timeout=30
    )
    assert refused.status_code == 404 and "Traceback" not in refused.text


def test_staff_run_the_calls_and_add_members_and_a_member_follows_in_chromium(browser, platform, screenshots):
    """The staff pages and the member's view of them pass axe at desktop and phone widths; each makes at most
    three API calls (counted by ``Pages``)."""
    community, staff = convene(platform)
    calls_api = scheduling_knows(platform, community, staff)
    base = f"/communities/{community}"
    nat = Pages(browser, platform, screenshots, DESKTOP)
    page = nat.page
    nat.sign_in_as("Nat National")

    page.goto(f"{base}/members")
    page.get_by_label("Takes part as").select_option("team_member")
    page.get_by_label("User id").fill("dev-participant-ca")
    page.get_by_label("Name (optional)").fill("Ana López")
    page.get_by_role("button", name="Add the member").click()  # no jurisdiction: the API's error by its field
    expect(page.locator("#jurisdiction-error")).to_be_visible()
    expect(page.get_by_label("User id")).to_have_value("dev-participant-ca")
    nat.check("members-add-error")
    page.get_by_label("Jurisdiction").fill("CA")
    page.get_by_role("button", name="Add the member").click()
    expect(page.get_by_role("status")).to_contain_text("dev-participant-ca was added")
    expect(page.get_by_role("cell", name="Ana López")).to_be_visible()
    nat.check("members-staff")

    page.get_by_role("link", name="All calls and meetings").click()
    page.get_by_label("Kind").select_option("interactive_call")
    page.get_by_label("Title").fill("Monthly community call")
    page.get_by_label("First call").fill("2027-01-12T14:00")
    page.get_by_label("Repeat").select_option("monthly")
    page.get_by_label("How many calls in all").fill("12")
    page.get_by_role("button", name="Schedule").click()  # no link to join
    expect(page.locator("#meeting_url-error")).to_be_visible()
    nat.check("calls-errors")
    page.get_by_label("Link to join").fill("https://meet.example.org/qrs")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("status")).to_contain_text("12 calls were scheduled")
    nat.check("calls")
    assert len(platform.api("GET", calls_api, staff)["items"]) == 12

    started = platform.api(
        "POST",
        calls_api,
        staff,
        json={
            "kind": "expert_session",
            "title": "Session with a ratings expert",
            "local_start": "2026-01-06T09:00:00",
            "meeting_url": "https://meet.example.org/expert",
        },
    )["calls"][0]
    page.goto(f"{base}/calls/{started['id']}")
    page.get_by_label("Minutes").fill("Ratings differ by state; we will compare criteria.")
    page.get_by_role("button", name="Save the agenda and minutes").click()
    expect(page.get_by_role("status")).to_have_text("The agenda and minutes were saved.")
    page.get_by_role("group", name="Ana López").get_by_text("Present").click()
    page.get_by_role("button", name="Save attendance").click()
    expect(page.get_by_role("status")).to_have_text("Attendance saved.")
    expect(page.get_by_role("group", name="Ana López").get_by_label("Present")).to_be_checked()
    nat.check("call-staff")

    # Synthesis: a member's thread is marked from where it is read, drafted, checked, published.
    thread = platform.api(
        "POST",
        f"{platform.content}/communities/{community}/threads",
        platform.token("participant", "CA", sub="dev-participant-ca", name="Ana López"),
        json={"title": "Rating infant rooms", "body": "We adapted the environment rating scale."},
    )
    page.goto(f"{base}/threads/{thread['id']}")
    page.get_by_role("button", name=re.compile(r"^Mark as a knowledge product\W+Rating infant rooms$")).click()
    expect(page.get_by_role("status")).to_have_text("The knowledge product was marked.")
    page.get_by_label("Title").fill("How the networks rate infant rooms")
    page.get_by_label("Summary").fill("Most adapt a national scale.")
    page.get_by_label("Rating infant rooms").check()
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Rating infant rooms: From a member jurisdiction, not named")).to_be_visible()
    nat.check("synthesis-draft")
    page.get_by_role("button", name=re.compile(r"^Publish\W+How the networks rate infant rooms\W+for every")).click()
    expect(page.get_by_role("heading", name="How the networks rate infant rooms")).to_be_visible()
    nat.check("synthesis-published")
    nat.close()

    ana = Pages(browser, platform, screenshots, PHONE)
    page = ana.page
    ana.sign_in_as("Ana López")
    page.goto(base)
    expect(page.get_by_role("heading", name="Work plan")).to_be_visible()
    ana.check("community-with-summary")
    page.get_by_role("button", name="Get the community’s calendar feed link").click()
    assert "calendar.ics?token=" in page.get_by_label("Calendar feed address").input_value()
    ana.check("community-feed")
    page.goto(f"{base}/calls")
    ana.check("calls-member")
    page.get_by_role("link", name="Session with a ratings expert").click()
    expect(page.get_by_text("Ratings differ by state")).to_be_visible()
    ana.check("call-member")
    ana.close()

    wide = Pages(browser, platform, screenshots, DESKTOP)
    wide.sign_in_as("Ana López")
    for name, path in (("community-with-summary", base), ("call-member", f"{base}/calls/{started['id']}")):
        wide.page.goto(path)
        wide.check(name)
    wide.close()
    print(f"screenshots in {screenshots}")


def test_staff_mark_knowledge_products_and_publish_a_synthesis_showing_what_consent_allows(platform):
    community, staff = convene(platform)
    consents = f"{platform.content}/communities/{community}/consents"
    # Texas consents to be named; California chose to be left out.
    platform.api("PUT", f"{consents}/TX", platform.token("jurisdiction_admin", "TX"), json={"choice": "attribute"})
    platform.api("PUT", f"{consents}/CA", platform.token("jurisdiction_admin", "CA"), json={"choice": "exclude"})
    ana_token = platform.token("specialist", "CA", sub="ana-ruiz", name="Ana Ruiz")
    cruz_token = platform.token("specialist", "TX", sub="cruz-lee", name="Cruz Lee")
    threads = f"{platform.content}/communities/{community}/threads"
    ca_thread = platform.api("POST", threads, ana_token, json={"title": "Caseloads", "body": "A dozen each."})
    tx_thread = platform.api("POST", threads, cruz_token, json={"title": "Rural reach", "body": "By phone."})
    rosa = portal_session(platform, "national_admin", "US", "rosa-staff", "Rosa Staff")
    ana = portal_session(platform, "specialist", "CA", "ana-ruiz", "Ana Ruiz")
    base = f"{platform.portal}/communities/{community}"

    # Staff mark from the thread page; a member is offered no such button, and the API refuses them anyway.
    assert "Mark as a knowledge product" in rosa.get(f"{base}/threads/{ca_thread['id']}", timeout=30).text
    assert "Mark as a knowledge product" not in ana.get(f"{base}/threads/{ca_thread['id']}", timeout=30).text
    for thread in (ca_thread, tx_thread):
        marked = rosa.post(
            f"{base}/knowledge-products",
            data={"source_kind": "thread", "source_id": thread["id"], "csrf_token": rosa.csrf},
            timeout=30,
        )
        assert "The knowledge product was marked." in marked.text
    refused = ana.post(
        f"{base}/knowledge-products",
        data={"source_kind": "thread", "source_id": ca_thread["id"], "csrf_token": ana.csrf},
        timeout=30,
    )
    assert refused.status_code == 403 and "Traceback" not in refused.text

    page = rosa.get(f"{base}/synthesis", timeout=30)
    assert int(page.headers["X-API-Calls"]) <= 3 and "Caseloads" in page.text and "Rural reach" in page.text
    products = re.findall(r'name="product" value="([^"]+)"', page.text)
    no_title = rosa.post(
        f"{base}/synthesis",
        data={"action": "draft", "title": "", "summary": "x", "product": products, "csrf_token": rosa.csrf},
        timeout=30,
    )
    assert 'id="title-error"' in no_title.text
    drafted = rosa.post(
        f"{base}/synthesis",
        data={
            "action": "draft",
            "title": "What the networks learnt",
            "summary": "About a dozen.",
            "product": products,
            "csrf_token": rosa.csrf,
        },
        timeout=30,
    )
    assert "The draft was saved." in drafted.text
    # The consent rule's outcome, before publishing: Texas named, California left out.
    assert "Rural reach: <strong>From TX (its consent)</strong>" in drafted.text
    assert "Caseloads:" not in drafted.text and "1 left out" in drafted.text
    synthesis_id = re.search(r'name="synthesis_id" value="([^"]+)"', drafted.text).group(1)
    published = rosa.post(
        f"{base}/synthesis",
        data={"action": "publish", "synthesis_id": synthesis_id, "csrf_token": rosa.csrf},
        timeout=30,
    )
    assert published.url.endswith(f"/syntheses/{synthesis_id}") and "About a dozen." in published.text
    assert "From TX" in published.text and "Caseloads" not in published.text
    again = rosa.post(
        f"{base}/synthesis",
        data={"action": "publish", "synthesis_id": synthesis_id, "csrf_token": rosa.csrf},
        timeout=30,
    )
    assert again.status_code == 409 and "Not possible now" in again.text


def test_staff_announce_a_national_audio_conference_and_anyone_registers_in_chromium(browser, platform, screenshots):
    nat = Pages(browser, platform, screenshots, DESKTOP)
    page = nat.page
    nat.sign_in_as("Nat National")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audio-conferences").click()
    page.get_by_label("Title").fill("Infant rooms and ratings: a national conversation")
    page.get_by_label("Starts").fill("2027-03-02T15:00")
    page.get_by_label("Time zone").select_option("America/Chicago")
    page.get_by_role("button", name="Announce").click()  # no link: the API's error next to its field
    expect(page.locator("#meeting_url-error")).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("America/Chicago")
    nat.check("audio-conferences-errors")
    page.get_by_label("Link to join").fill("https://meet.example.org/national")
    page.get_by_role("button", name="Announce").click()
    expect(page.get_by_role("status")).to_contain_text("The audio-conference is announced")
    # As announced, after the time in the browser's own zone when that reads differently.
    expect(page.locator("time", has_text="3:00 PM CST").first).to_contain_text("Tue 2 Mar 2027")
    call_url = page.url.split("?")[0]
    nat.close()

    # Someone of a jurisdiction that is in no community registers, with an address for the invitation.
    reader = Pages(browser, platform, screenshots, PHONE)
    page = reader.page
    reader.sign_in_as("Alex Admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audio-conferences").click()
    reader.check("audio-conferences")
    page.get_by_role("link", name="Infant rooms and ratings: a national conversation").click()
    page.get_by_label("E-mail for the invitation").fill("not-an-address")
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#email-error")).to_be_visible()
    reader.check("audio-conference-error")
    page.get_by_label("E-mail for the invitation").fill("alex@example.org")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_have_text("You are registered. The invitation comes by e-mail.")
    expect(page.get_by_role("link", name="Join the audio-conference")).to_be_visible()
    reader.check("audio-conference-registered")
    reader.close()

    call_id = call_url.rsplit("/", 1)[1]
    staff = platform.token("national_admin", "US")
    registrations = platform.api("GET", f"{platform.scheduling}/audio-conferences/{call_id}/registrations", staff)
    assert [(r["person"], r["name"]) for r in registrations["items"]] == [("dev-jurisdiction_admin-ca", "Alex Admin")]
    wide = Pages(browser, platform, screenshots, DESKTOP)
    wide.sign_in_as("Nat National")
    wide.page.goto(call_url)
    expect(wide.page.get_by_role("cell", name="Alex Admin")).to_be_visible()
    wide.check("audio-conference-staff")
    wide.close()


def test_a_read_given_an_absent_value_answers_it_for_a_404_and_for_nothing_else(platform):
    """The community page reads scheduling's calls beside content's reads: a community scheduling does not know
    yet has no calls, while any other refusal still shows."""
    api = Backend({"scheduling": platform.scheduling}, timeout=10, pool_size=2)
    staff = platform.token("national_admin", "US")
    unknown = "/communities/00000000-0000-0000-0000-000000000000/calls"
    assert api.get_all(("scheduling", unknown, {"token": staff, "absent": {"items": []}})) == [{"items": []}]
    with pytest.raises(BackendError) as not_found:
        api.get_all(("scheduling", unknown, {"token": staff}))
    assert not_found.value.status == 404
    with pytest.raises(BackendError) as refused:
        api.get_all(("scheduling", unknown, {"token": "not-a-token", "absent": {"items": []}}))
    assert refused.value.status == 401

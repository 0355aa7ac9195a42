"""A learning community member's pages in the portal, against the running content and scheduling APIs.

A community is convened and peopled through content's API (as staff would); then each person uses the
portal's pages with a signed-in session of their own.
"""

from __future__ import annotations

import re

import requests

from tests.portal.conftest import Platform


def portal_session(platform: Platform, role: str, tenant: str, sub: str, name: str) -> requests.Session:
    """A person signed in to the portal with the development sign-in."""
    session = requests.Session()
    page = session.get(f"{platform.portal}/sign-in", timeout=30).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = session.post(
        f"{platform.portal}/sign-in",
        data={"role": role, "tenant": tenant, "sub": sub, "name": name, "csrf_token": csrf},
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
    space = ana.get(base, timeout=30)
    assert "Caseloads" in space.text and "1 reply" in space.text
    assert int(space.headers["X-API-Calls"]) <= 3

    # Documents: a file the community wrote.
    pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    posted = cruz.post(
        f"{base}/documents",
        data={"source": "file", "title": "Texas network map", "csrf_token": cruz.csrf},
        files={"file": ("map.pdf", pdf, "application/pdf")},
        timeout=30,
    )
    assert posted.status_code == 200 and "Texas network map" in posted.text and "map.pdf" in posted.text
    no_file = cruz.post(f"{base}/documents", data={"source": "file", "title": "", "csrf_token": cruz.csrf}, timeout=30)
    assert "error-summary" in no_file.text
    assert int(posted.headers["X-API-Calls"]) <= 3

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

    # Someone of another jurisdiction, not a member: a plain "Not found" for every page of the space.
    stranger = portal_session(platform, "specialist", "NY", "ny-person", "Nia York")
    assert "Infant/Toddler Specialist Networks" not in stranger.get(f"{platform.portal}/communities", timeout=30).text
    for path in ("", "/documents", "/work-plan", "/members", thread_url.split(community)[1]):
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

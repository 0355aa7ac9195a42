"""Directories of people by name (scheduling's facilitators, coaching's specialists): one page shape for both.

Anyone who chooses such people finds them by part of their name; jurisdiction admins enter one who has not
signed in yet (or correct a name), withdraw one who left, or offer one again. One call to show, one more
to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import flash, redirect, render_template, request, url_for

from services.portal.backend import BackendError
from services.portal.pages import backend, token

PAGE = 200


@dataclass(frozen=True)
class Directory:
    service: str  # the API that keeps it
    path: str  # its list; one person is ``<path>/<sub>``
    endpoint: str  # the portal page showing it
    title: str
    one: str  # one of them, in a sentence
    lead: str
    offered: str  # the column saying whether the forms offer them
    withdrawn: str  # what withdrawing one means, said after their name


def page(directory: Directory, also: tuple[tuple[str, str], ...] = ()):
    """The directory's page, after the change a POST asks for; ``also`` links (href, text) beside the title."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = _change(directory, request.form)
        if not errors:
            return redirect(url_for(directory.endpoint, q=request.args.get("q") or None))
    found = request.args.get("q", "").strip()
    params = {"limit": PAGE, "include_withdrawn": "true", **({"q": found} if found else {})}
    listed = backend().get(directory.service, directory.path, token=token(), params=params)
    return render_template(
        "directory.html", words={**directory.__dict__, "also": also}, people=listed["items"],
        more=bool(listed.get("next_cursor")), found=found,
        form=request.form if request.form.get("action") == "enter" else {}, errors=errors,
    ), (422 if errors else 200)  # fmt: skip


def _change(directory: Directory, form) -> dict[str, str]:
    """Enter (or offer again) or withdraw one person; the errors to show beside the entry form's fields."""
    sub, name = form.get("sub", "").strip(), form.get("name", "").strip()
    if not sub:
        return {"sub": "Enter their user id at your identity provider."}
    path = f"{directory.path}/{quote(sub, safe='')}"
    try:
        if form.get("action") == "withdraw":
            entry = backend().call("DELETE", directory.service, path, token=token()).json()
            flash(f"{entry['name']} is withdrawn: {directory.withdrawn}")
        else:
            entry = backend().put(directory.service, path, token=token(), json={"name": name})
            flash(f"{entry['name']} is listed: forms offer them by name.")
    except BackendError as error:
        if error.status not in (403, 404, 422):
            raise
        return {**error.field_errors, "_form": error.message}
    return {}

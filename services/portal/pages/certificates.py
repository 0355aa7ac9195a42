"""Certificates and files: public verification by code, and downloads passed through with the person's token."""

from __future__ import annotations

import re

from flask import Blueprint, Response, redirect, render_template, request, stream_with_context, url_for

from services.portal import identity
from services.portal.backend import BackendError
from services.portal.pages import backend, token

blp = Blueprint("certificates", __name__)
CODE = re.compile(r"^[A-Za-z0-9_-]{4,64}$")


@blp.get("/verify")
def verify_form():
    """Anyone: type the code printed on a certificate."""
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("certificates.verify", code=code))
    return render_template("verify.html", certificate=None, code="", error=None)


@blp.get("/verify/<code>")
def verify(code):
    """Anyone, signed in or not: is this certificate genuine, and what does it certify? One call."""
    if not CODE.match(code):
        return render_template("verify.html", certificate=None, code=code, error="This is not a certificate code."), 404
    try:
        certificate = backend().get("scheduling", f"/certificates/{code}")
    except BackendError as error:
        if error.status != 404:
            raise
        return render_template(
            "verify.html", certificate=None, code=code, error="No certificate has this code. Check it and try again."
        ), 404
    return render_template("verify.html", certificate=certificate, code=code, error=None)


@blp.get("/registrations/<registration_id>/certificate.pdf")
@identity.signed_in
def certificate(registration_id):
    """The certificate of attendance (PDF), passed through; a friendly page until the participant completes."""
    try:
        return file_from(
            "scheduling",
            f"/registrations/{registration_id}/certificate.pdf",
            filename="certificate.pdf",
            accept="application/pdf",
            attachment=True,
        )
    except BackendError as error:
        if error.status != 404:
            raise
        return render_template(
            "error.html",
            title="No certificate yet",
            message="The certificate is issued once the training is completed (its sessions attended). "
            "Come back after your last session.",
        ), 404


@blp.get("/materials/<material_id>/versions/<int:number>")
@identity.signed_in
def material(material_id, number):
    """A session's material file, from the content service."""
    return file_from("content", f"/materials/{material_id}/versions/{number}/download")


def file_from(
    service: str, path: str, *, filename: str | None = None, accept: str = "*/*", attachment: bool = False
) -> Response:
    """A service's file, read with the person's token and streamed to the browser with its name.

    ``attachment`` saves it rather than opening it; ``filename`` names it when the service does not.
    """
    response = backend().call("GET", service, path, token=token(), accept=accept, stream=True)
    headers = {"Cache-Control": "private, no-store"}
    disposition = response.headers.get("Content-Disposition") or (f'inline; filename="{filename}"' if filename else "")
    if attachment:
        disposition = "attachment" + disposition[disposition.index(";") :] if ";" in disposition else "attachment"
    if disposition:
        headers["Content-Disposition"] = disposition
    return Response(
        stream_with_context(response.iter_content(64 * 1024)),
        mimetype=response.headers.get("Content-Type", "application/octet-stream"),
        headers=headers,
    )

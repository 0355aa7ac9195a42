"""One-click unsubscribe (RFC 8058): the link in an e-mail's ``List-Unsubscribe`` header.

A mail provider's "Unsubscribe" button POSTs to it (``List-Unsubscribe=One-Click``) without anyone signing
in; the link is the credential (see ``domain/unsubscribe.py``). Opened in a browser, it asks first: a
GET changes nothing, since mail scanners open every link they find.
"""

from __future__ import annotations

from flask import Response, render_template_string
from flask.views import MethodView

from services.notifications.use_cases import contact_points as use_cases
from shared.http.api import Blueprint, context, request_uow

blp = Blueprint(
    "unsubscribe",
    __name__,
    description="One-click unsubscribe links (RFC 8058), carried by each e-mail a person may turn off.",
)

WORDS = {
    "en": {
        "title": "Stop these e-mails?",
        "ask": "You will no longer get the training for trainers platform's e-mails about",
        "button": "Stop these e-mails",
        "done_title": "You will get no more of these e-mails",
        "done": "You turned off the e-mails about",
        "critical": "A session cancelled or moved within 48 hours of its start still reaches you.",
        "manage": "Turn them back on, or choose others, on My e-mails.",
    },
    "es": {
        "title": "¿Dejar de recibir estos correos?",
        "ask": "Ya no recibirá los correos de la plataforma de formación de formadores sobre",
        "button": "Dejar de recibir estos correos",
        "done_title": "No recibirá más correos de este tipo",
        "done": "Desactivó los correos sobre",
        "critical": "Si una sesión se cancela o cambia en las 48 horas antes de su inicio, igual se le avisará.",
        "manage": "Vuelva a activarlos, o elija otros, en Mis correos.",
    },
}

PAGE = """<!DOCTYPE html><html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>{{ heading }}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:2rem auto;max-width:36rem;padding:0 1rem;color:#1f2933;
line-height:1.5}button{font:inherit;padding:.6rem 1rem;background:#2f6f5e;color:#fff;border:0;border-radius:4px;
cursor:pointer}a{color:#2f6f5e}</style></head><body><main>
<h1>{{ heading }}</h1>
<p>{{ lead }} <strong>{{ kind }}</strong>.</p>
<p>{{ w.critical }}</p>
{% if ask %}<form method="post"><button type="submit">{{ w.button }}</button></form>{% endif %}
{% if manage_url %}<p><a href="{{ manage_url }}">{{ w.manage }}</a></p>{% endif %}
</main></body></html>"""


# Each kind as the page names it to its reader: (English, Spanish).
KIND_NAMES = {
    "adaptation_reviewed": ("your adaptation reviewed", "la revisión de su adaptación"),
    "adaptation_submitted": ("an adaptation to review", "una adaptación por revisar"),
    "commitment_due_soon": ("your commitment due soon", "su compromiso próximo a vencer"),
    "commitment_fulfilled": ("a commitment fulfilled", "un compromiso cumplido"),
    "commitment_overdue": ("a commitment overdue", "un compromiso vencido"),
    "community_call_cancelled": ("a community call cancelled", "una llamada de la comunidad cancelada"),
    "community_call_reminder": ("community call reminders", "recordatorios de llamadas de la comunidad"),
    "community_call_rescheduled": ("a community call moved", "una llamada de la comunidad cambiada"),
    "community_call_scheduled": ("community call invitations", "invitaciones a llamadas de la comunidad"),
    "community_left": ("leaving a community", "la salida de una comunidad"),
    "followup_due": ("follow-ups due", "seguimientos pendientes"),
    "plan_opened": ("your implementation plan opened", "la apertura de su plan de implementación"),
    "registration_cancelled": ("a registration cancelled", "una inscripción cancelada"),
    "registration_confirmed": ("a registration confirmed", "una inscripción confirmada"),
    "registration_promoted": ("a place from the waitlist", "un lugar desde la lista de espera"),
    "registration_waitlisted": ("a place on the waitlist", "un lugar en la lista de espera"),
    "request_approved": ("a request approved", "una solicitud aprobada"),
    "request_declined": ("a request declined", "una solicitud rechazada"),
    "session_cancelled": ("a session cancelled", "una sesión cancelada"),
    "session_reminder": ("session reminders", "recordatorios de sesiones"),
    "session_rescheduled": ("a session moved", "una sesión cambiada"),
    "session_scheduled": ("session invitations", "invitaciones a sesiones"),
    "specialist_assigned": ("a specialist assigned", "la asignación de un especialista"),
    "synthesis_published": ("a synthesis published", "la publicación de una síntesis"),
    "thread_replied": ("replies in a thread you follow", "respuestas en un tema que sigue"),
    "training_completed": ("a training completed", "una formación completada"),
}


def kind_name(kind: str, language: str) -> str:
    # Every kind a link may name has its names (tests/unit/test_unsubscribe_links.py); a link naming any
    # other is refused before a page is made.
    english, spanish = KIND_NAMES[kind]
    return spanish if language == "es" else english


def page(asked, language: str, *, ask: bool) -> Response:
    words = WORDS.get(language, WORDS["en"])
    portal = context().config.portal_url
    body = render_template_string(
        PAGE,
        lang=language if language in WORDS else "en",
        w=words,
        heading=words["title"] if ask else words["done_title"],
        lead=words["ask"] if ask else words["done"],
        kind=kind_name(asked.kind, language),
        ask=ask,
        manage_url=f"{portal}/my/notifications" if portal else None,
    )
    # The link is the credential: keep it out of caches and other sites' Referer headers.
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
    return Response(body, status=200, content_type="text/html; charset=utf-8", headers=headers)


HTML = {"type": "string", "example": '<!DOCTYPE html><html lang="en">…</html>'}


@blp.route("/unsubscribe/<token>")
class Unsubscribe(MethodView):
    @blp.doc(security=[], summary="Ask whether to stop e-mails of one kind (the link is the credential).")
    @blp.response(200, HTML, content_type="text/html", description="A page asking to confirm; nothing changes.")
    @blp.alt_response(404, description="Not a link this service signed (changed, cut short or made up).")
    def get(self, token):
        """The page a person's browser shows for the link: it names the kind and asks to confirm."""
        asked, language = use_cases.read_unsubscription(token, request_uow(), context().config)
        return page(asked, language, ask=True)

    @blp.doc(
        security=[],
        summary="Stop e-mails of one kind, in one click (RFC 8058; the link is the credential).",
        requestBody={
            "required": False,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {"List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}},
                    }
                }
            },
        },
    )
    @blp.response(
        200,
        HTML,
        content_type="text/html",
        description="Done (or already done): the person gets no more e-mails of this kind, critical ones aside.",
    )
    @blp.alt_response(404, description="Not a link this service signed (changed, cut short or made up).")
    def post(self, token):
        """Turn the kind off for the person, as a mail provider's Unsubscribe button or the page's button asks."""
        asked, language = use_cases.unsubscribe(token, request_uow(), context().config)
        return page(asked, language, ask=False)

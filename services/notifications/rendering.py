"""The e-mails, rendered from Jinja2 templates: one source per kind and language, read as plain text and HTML.

Each ``templates/<language>/<template>.txt`` holds the subject on its first line and the body's
paragraphs after it. The body is written once; ``layout.txt`` and ``layout.html`` (escaped) wrap it
with the session's details, so the two parts never say different things.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import markupsafe
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notifications.domain.pages import Page

TEMPLATES = Path(__file__).parent / "templates"

LABELS = {
    "en": {
        "when": "When",
        "where_you_are": "your time",
        "where_held": "where it is held",
        "was": "Was",
        "where": "Where",
        "accessibility": "Accessibility",
        "join": "Join online",
        "footer": "You receive this because you take part in the Training for Trainers program. "
        "You choose which of these e-mails you receive, and how often, under “My e-mails” in the program's portal.",
        "copy": "A copy for you as supervisor of {person}.",
        "footer_admin": "You receive this because you subscribed this endpoint for your jurisdiction, "
        "or were named as its contact.",
        "manage": "Choose your e-mails",
        "unsubscribe": "Stop e-mails like this one",
        "open_training": "See your training",
        "open_sessions": "See your sessions",
        "open_requests": "See your requests",
        "open_commitment": "See your commitment",
        "open_trainer": "See the trainer's plan",
        "open_call": "See the call",
        "open_thread": "Read the thread",
        "open_synthesis": "Read the synthesis",
        "open_communities": "See your communities",
        "open_adaptation": "See your adaptation",
        "open_reviews": "Review it",
        "open_certificate": "Download your certificate",
        "open_webhooks": "See your webhooks",
    },
    "es": {
        "when": "Cuándo",
        "where_you_are": "su hora",
        "where_held": "hora del lugar",
        "was": "Antes",
        "where": "Dónde",
        "accessibility": "Accesibilidad",
        "join": "Unirse en línea",
        "footer": "Recibe este mensaje porque participa en el programa Training for Trainers. "
        "Usted elige cuáles de estos mensajes recibe, y con qué frecuencia, en «My e-mails» del portal del programa.",
        "copy": "Copia para usted como supervisor/a de {person}.",
        "footer_admin": "Recibe este mensaje porque suscribió este destino para su jurisdicción, "
        "o figura como su contacto.",
        "manage": "Elija sus mensajes",
        "unsubscribe": "Dejar de recibir correos como este",
        "open_training": "Ver su formación",
        "open_sessions": "Ver sus sesiones",
        "open_requests": "Ver sus solicitudes",
        "open_commitment": "Ver su compromiso",
        "open_trainer": "Ver el plan de la persona formadora",
        "open_call": "Ver la llamada",
        "open_thread": "Leer el hilo",
        "open_synthesis": "Leer la síntesis",
        "open_communities": "Ver sus comunidades",
        "open_adaptation": "Ver su adaptación",
        "open_reviews": "Revisarla",
        "open_certificate": "Descargar su certificado",
        "open_webhooks": "Ver sus webhooks",
    },
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    # How the message greets its reader by name ("Hello {name},"), where the layout left a place for it.
    greeting: str | None = None

    def for_reader(self, *, name: str | None = None, unsubscribe: str | None = None) -> Rendered:
        """The message as one reader gets it: greeted by their name (the line left out when it is not
        known) and with their own unsubscribe link where the layout put ``UNSUBSCRIBE_LINK``."""
        text, html = self.text, self.html
        if self.greeting is not None:
            name = " ".join((name or "").split())
            if name:
                hello = self.greeting.format(name=name)
                text = text.replace(GREETING, hello, 1)
                html = html.replace(GREETING, markupsafe.escape(hello), 1)
            else:
                text = text.replace(GREETING + "\n\n", "", 1)
                html = _GREETING_PARAGRAPH.sub("", html, count=1)
        if unsubscribe and UNSUBSCRIBE_LINK in text:
            text = text.replace(UNSUBSCRIBE_LINK, unsubscribe)
            html = html.replace(UNSUBSCRIBE_LINK, markupsafe.escape(unsubscribe))
        return Rendered(self.subject, text, html)


# Where a reader's own unsubscribe link and greeting go. One rendering serves everyone a message goes to
# (the cache below); each message then puts its reader's link and name in these places.
UNSUBSCRIBE_LINK = "unsubscribe-link-of-this-reader"
GREETING = "greeting-of-this-reader"
_GREETING_PARAGRAPH = re.compile(r"<p[^>]*>" + GREETING + r"</p>\n?")

# A greeting that reads well with a whole name as registered (names are not split into first and last:
# not every name puts the given name first), in the register the templates use ("usted" in Spanish).
GREETINGS = {"en": "Hello {name},", "es": "Hola, {name}:"}


# Rendered messages kept per renderer: a session's change or a cohort's registrations write the same
# message to many people (the values differ by language and time zone, not by person).
CACHED_MESSAGES = 1024


class Renderer:
    """Renders a template in a language, with the layout around it.

    The templates are read once (a deployed service's templates do not change while it runs), and
    a message rendered from the same values is not rendered again: rendering was, with the invite,
    most of the consumer's time per message (bench.pipeline, bench.notifications).
    """

    def __init__(self, folder: Path = TEMPLATES, *, portal_url: str = ""):
        self.portal_url = portal_url.rstrip("/")
        # Where people choose their e-mails ("My e-mails" in the portal), linked from each message to a person.
        self.manage_url = f"{self.portal_url}/my/notifications" if portal_url else None
        self._cache: OrderedDict[str, Rendered] = OrderedDict()
        self._lock = threading.Lock()
        self.plain = Environment(
            loader=FileSystemLoader(folder),
            auto_reload=False,
            autoescape=False,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        # The bodies keep their blank lines as written: they separate the paragraphs.
        self.bodies = Environment(
            loader=FileSystemLoader(folder), auto_reload=False, autoescape=False, undefined=StrictUndefined
        )
        self.html = Environment(
            loader=FileSystemLoader(folder),
            auto_reload=False,
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
        )

    def render(
        self,
        template: str,
        language: str,
        context: dict,
        *,
        copy_of: str | None = None,
        footer: str = "footer",
        page: Page | None = None,
        unsubscribe: bool = False,
        greet: bool = False,
    ) -> Rendered:
        """``footer`` names the label that says why the recipient gets it (``footer_admin``: a notice to admins);
        ``page`` is the portal's page the message is about, linked where the portal's address is known;
        ``unsubscribe`` and ``greet`` leave places for the reader's unsubscribe link and name (``Rendered.for_reader``)."""
        language = language if language in LABELS else "en"
        # The invite's text is not shown in the message, only whether there is one.
        shown = {**context, "invite": bool(context.get("invite"))}
        where = [page.path, page.label] if page and self.portal_url else None
        try:
            key = json.dumps([template, language, copy_of, footer, where, unsubscribe, greet, shown], sort_keys=True)
        except TypeError:  # a value JSON cannot spell: render it without the cache
            return self._render(template, language, context, copy_of, footer, page, unsubscribe, greet)
        with self._lock:
            rendered = self._cache.get(key)
            if rendered is not None:
                self._cache.move_to_end(key)
                return rendered
        rendered = self._render(template, language, context, copy_of, footer, page, unsubscribe, greet)
        with self._lock:
            self._cache[key] = rendered
            if len(self._cache) > CACHED_MESSAGES:
                self._cache.popitem(last=False)
        return rendered

    def _render(
        self,
        template: str,
        language: str,
        context: dict,
        copy_of: str | None,
        footer: str,
        page: Page | None,
        unsubscribe: bool = False,
        greet: bool = False,
    ) -> Rendered:
        source = self.bodies.get_template(f"{language}/{template}.txt").render(**context).strip()
        subject, _, body = source.partition("\n")
        paragraphs = [" ".join(p.split()) for p in body.strip().split("\n\n") if p.strip()]
        labels = {**LABELS[language], "footer": LABELS[language][footer]}
        note = labels["copy"].format(person=copy_of) if copy_of else None
        values = dict(
            subject=subject.strip(),
            paragraphs=paragraphs,
            details=context.get("session"),
            invite=bool(context.get("invite")),
            labels=labels,
            language=language,
            note=note,
            manage_url=self.manage_url if footer == "footer" else None,
            unsubscribe_url=UNSUBSCRIBE_LINK if unsubscribe else None,
            greeting=GREETING if greet else None,
            page_url=f"{self.portal_url}{page.path}" if page and self.portal_url else None,
            page_label=labels[page.label] if page else None,
        )
        return Rendered(
            subject=subject.strip(),
            text=self.plain.get_template("layout.txt").render(**values).strip() + "\n",
            html=self.html.get_template("layout.html").render(**values),
            greeting=GREETINGS[language] if greet else None,
        )

"""E-mails greet their reader by name where it is known; one rendering still serves every reader."""

from __future__ import annotations

from services.notifications.rendering import GREETING, Renderer

VALUES = {"title": "Relationship-Based Care", "cohort": "Fresno", "sessions_count": 0, "session": None, "invite": None}


def message(language="en", **options):
    return Renderer(portal_url="https://portal.example.org").render(
        "registration_confirmed", language, VALUES, greet=True, **options
    )


def paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def test_a_reader_is_greeted_by_their_whole_name_before_the_message_in_text_and_html():
    rendered = message().for_reader(name="Ana  López\n")
    assert paragraphs(rendered.text)[0] == "Hello Ana López,"
    assert paragraphs(rendered.text)[1].startswith("Your seat in Fresno is confirmed.")
    assert '<p style="margin:0 0 14px;font-size:16px;line-height:1.5;">Hello Ana López,</p>' in rendered.html
    assert rendered.html.index("Hello Ana López,") < rendered.html.index("Your seat in Fresno")
    assert rendered.html.index("</h1>") < rendered.html.index("Hello Ana López,")


def test_a_spanish_reader_is_greeted_in_spanish():
    rendered = message("es").for_reader(name="Ana López")
    assert paragraphs(rendered.text)[0] == "Hola, Ana López:"
    assert "Hola, Ana López:" in rendered.html


def test_a_reader_whose_name_is_not_known_reads_no_greeting_and_no_empty_line():
    for name in (None, "", "   "):
        rendered = message().for_reader(name=name)
        assert GREETING not in rendered.text and GREETING not in rendered.html
        assert "Hello" not in rendered.text and "Hello" not in rendered.html
        assert paragraphs(rendered.text)[0].startswith("Your seat in Fresno is confirmed.")
        assert rendered.html == message().for_reader(name="Ana").html.replace(
            '<p style="margin:0 0 14px;font-size:16px;line-height:1.5;">Hello Ana,</p>\n', ""
        )


def test_a_name_is_shown_as_written_never_read_as_html():
    rendered = message().for_reader(name="Ana <b>López</b> & co")
    assert "Hello Ana &lt;b&gt;López&lt;/b&gt; &amp; co," in rendered.html
    assert "<b>López" not in rendered.html
    assert paragraphs(rendered.text)[0] == "Hello Ana <b>López</b> & co,"


def test_one_rendering_serves_readers_of_different_names_and_links():
    renderer = Renderer(portal_url="https://portal.example.org")
    first = renderer.render("registration_confirmed", "en", VALUES, greet=True, unsubscribe=True)
    assert renderer.render("registration_confirmed", "en", VALUES, greet=True, unsubscribe=True) is first
    ana = first.for_reader(name="Ana López", unsubscribe="https://n.example.org/unsubscribe/a")
    ben = first.for_reader(name="Ben Cho", unsubscribe="https://n.example.org/unsubscribe/b")
    assert "Hello Ana López," in ana.text and "Ben" not in ana.text and "/unsubscribe/a" in ana.text
    assert "Hello Ben Cho," in ben.text and "Ana" not in ben.text and "/unsubscribe/b" in ben.html


def test_a_message_rendered_without_a_greeting_names_nobody():
    """A supervisor's copy, for one: its reader is not the person the contact point names."""
    copy = Renderer().render("registration_confirmed", "en", VALUES, copy_of="ana@example.org")
    assert copy.for_reader(name="Ana López").text == copy.text
    assert "Hello" not in copy.text and GREETING not in copy.html

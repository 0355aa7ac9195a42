"""The text fields of every request schema: trimmed, free of control, bidi-override and surrogate characters, bounded."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate

from shared.text import TextRefused, clean_text, is_blank


class Text(fields.String):
    """Text a person types, checked by the rules of ``shared.text``.

    Args:
        max_length: most characters, counted after trimming.
        multiline: keeps line breaks and tabs (descriptions, notes, reasons); otherwise one line.
        blank: an empty value is accepted (as ``""``), for optional free text; otherwise blank text is
            refused, whether the field is required or merely given.
    """

    def __init__(self, max_length: int, *, multiline: bool = False, blank: bool = False, **kwargs):
        extra = kwargs.pop("validate", None)
        validators = [validate.Length(min=0 if blank else 1, max=max_length)]
        if extra is not None:
            validators += list(extra) if isinstance(extra, (list, tuple)) else [extra]
        super().__init__(validate=validators, **kwargs)
        self.multiline = multiline
        self.blank = blank

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text = clean_text(text, multiline=self.multiline)
        except TextRefused as exc:
            raise ValidationError(str(exc)) from None
        if not self.blank and is_blank(text):
            raise ValidationError("Must not be blank.")
        return text


def _one_line(value: str) -> str:
    try:
        return clean_text(value)
    except TextRefused as exc:
        raise ValidationError(str(exc)) from None


class Url(fields.URL):
    """A web address, trimmed and held to the text rules (marshmallow's own check lets controls and
    bidi characters through in a path)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = _one_line(value)
        return super()._deserialize(value, attr, data, **kwargs)


class Email(fields.Email):
    """An e-mail address, trimmed and held to the text rules."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = _one_line(value)
        return super()._deserialize(value, attr, data, **kwargs)

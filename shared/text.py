"""The rules every piece of text a person sends must keep, written once for every door (JSON, forms, CSV).

What is stored is printed on certificates, written into calendar feeds and exported as CSV, so it
must not carry what breaks those or misleads their readers:

- control characters (C0 U+0000-U+001F, DEL U+007F, C1 U+0080-U+009F): a line break in a title ends
  the calendar line it is written on; a multi-line field (a description, a note, a reason) keeps its
  line breaks (CR LF and lone CR become LF) and tabs, nothing else;
- bidirectional embedding, override and isolate characters (U+202A-U+202E, U+2066-U+2069), which make
  text read differently from what is stored ("Trojan Source");
- lone UTF-16 surrogates (U+D800-U+DFFF, ``"\\ud800"`` in JSON), which no UTF-8 text can hold;
- single-line text also refuses the line and paragraph separators U+2028 and U+2029.

Leading and trailing whitespace (spaces, tabs, line breaks) is removed first; text that is then
empty, or holds only whitespace and invisible characters (zero-width spaces and joiners, byte-order
marks), counts as blank.
"""

from __future__ import annotations

import re

_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 without TAB and LF, DEL, C1
_BIDI = "\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
_REFUSED_MULTI_LINE = re.compile(f"[{_CONTROLS}{_BIDI}{_SURROGATES}]")
_REFUSED_SINGLE_LINE = re.compile(f"[\t\n{_CONTROLS}{_BIDI}{_SURROGATES}\u2028\u2029]")
# Spaces (Unicode's Zs), tabs and line breaks; other "whitespace" (U+001C-U+001F, U+0085) is a control.
_TRIMMED = "\t\n\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


class TextRefused(ValueError):
    """The text breaks one of the rules; the message says which, for a person to read."""


def _describe(char: str) -> str:
    code = ord(char)
    name = f"U+{code:04X}"
    if 0xD800 <= code <= 0xDFFF:
        return f"Must not hold a lone UTF-16 surrogate ({name}); send the whole character."
    if char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        return f"Must not hold bidirectional control characters ({name})."
    if char in "\t\n\u2028\u2029":
        return f"Must be a single line: no line breaks or tabs ({name})."
    return f"Must not hold control characters ({name})."


def clean_text(value: str, *, multiline: bool = False) -> str:
    """``value`` trimmed of surrounding whitespace, with line breaks normalised to LF in multi-line text.

    Raises:
        TextRefused: ``value`` holds a character the rules above refuse.
    """
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    # Trimmed first: a title pasted with a trailing line break is the title.
    value = value.strip(_TRIMMED)
    refused = (_REFUSED_MULTI_LINE if multiline else _REFUSED_SINGLE_LINE).search(value)
    if refused:
        raise TextRefused(_describe(refused.group()))
    return value


def is_blank(value: str) -> bool:
    """Nothing a reader would see: empty, whitespace, zero-width characters."""
    return not value.translate(_INVISIBLE).strip()

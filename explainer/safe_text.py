"""Strings that came from a user, a file or a link, made safe to show.

A class name in a shared head file, a folder name in a zip or a value in a
link is *text*: it must never become a live link, an external image, HTML in
a chart label or a terminal control sequence. One helper per place it is
shown:

* :func:`printable` — control characters (C0/C1, bidi overrides) removed,
  length capped: for terminals and plain-text widgets;
* :func:`markdown_text` — additionally every Markdown, LaTeX (``$``) and
  Streamlit directive character backslash-escaped, for ``st.markdown``,
  ``st.caption``, ``st.warning`` …;
* :func:`code_text` — a short inline code span (for rejected link values);
* :func:`plotly_text` — ``&``, ``<``, ``>`` as HTML entities (plotly draws its
  labels from a subset of HTML: ``<a href>``, ``<img>``-free but linkable).
"""

from __future__ import annotations

import re
import unicodedata

#: Longest user-given string shown anywhere, in characters (longer ones end in "…").
MAX_SHOWN = 80

#: Bidirectional overrides and isolates: they reorder what a reader sees (a name can pretend to be another).
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}
#: Characters that can start Markdown, HTML, LaTeX or a Streamlit directive anywhere in a line (``.`` only
#: in ``www.``, the start of an automatic link; ``:`` also stops ``https://`` autolinks and ``:red[…]``).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~$:@^])|(?i:(?<=www)\.)")


def printable(text: object, limit: int = MAX_SHOWN) -> str:
    """``text`` without control characters (newlines and tabs become spaces), at most ``limit`` characters."""
    raw = str(text)
    kept = []
    for ch in raw:
        if ch in "\n\r\t":
            kept.append(" ")
        elif unicodedata.category(ch) == "Cc" or ch in _BIDI:
            continue
        else:
            kept.append(ch)
    cleaned = "".join(kept)
    return cleaned if len(cleaned) <= limit else cleaned[: max(0, limit - 1)] + "…"


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control or bidi-override character (newline and tab included)."""
    return any(unicodedata.category(ch) == "Cc" or ch in _BIDI for ch in text)


def markdown_text(text: object, limit: int = MAX_SHOWN) -> str:
    """``text`` as literal Markdown: no link, image, emphasis, HTML, formula or ``:color[...]`` directive."""
    escaped = _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(0), printable(text, limit))
    # A list or heading marker only counts at the start of a line: escape a leading "-", "+", "=" or "1." / "1)".
    escaped = re.sub(r"^(\s*)([-+=])", r"\1\\\2", escaped)
    return re.sub(r"^(\s*\d+)([.)])", r"\1\\\2", escaped)


def code_text(text: object, limit: int = 40) -> str:
    """``text`` as a short inline code span (backticks inside replaced by ``'``): shown verbatim, never rendered."""
    inner = printable(text, limit).replace("`", "'")
    return f"`{inner}`" if inner.strip() else "` `"


def plotly_text(text: object, limit: int = MAX_SHOWN) -> str:
    """``text`` for a plotly label or hover text: its HTML subset (``<a href>``, ``<b>``, ``<br>``) disarmed."""
    return printable(text, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class TerminalText:
    """A text stream that passes on everything but control characters (tab and newline kept): wraps the command
    line's stdout and stderr, so a class or file name from a zip or a head file cannot move the cursor, recolour
    or clear the user's terminal."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write("".join(ch for ch in text if ch in "\n\t"
                                   or not (unicodedata.category(ch) == "Cc" or ch in _BIDI)))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)

"""Plain-text tables for the command line."""

from __future__ import annotations

import unicodedata
from typing import Iterable, Sequence


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def format_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Left-align the first column, right-align the others (Chinese text lines up too)."""
    body = [[str(cell) for cell in row] for row in rows]
    widths = [max(display_width(str(h)), *(display_width(r[c]) for r in body)) if body else display_width(str(h))
              for c, h in enumerate(header)]

    def pad(cell: str, width: int, left: bool) -> str:
        fill = " " * (width - display_width(cell))
        return cell + fill if left else fill + cell

    def line(cells: Sequence[str]) -> str:
        return "  ".join(pad(cell, widths[c], c == 0) for c, cell in enumerate(cells))

    return "\n".join([line([str(h) for h in header]), line(["-" * w for w in widths]), *(line(r) for r in body)])

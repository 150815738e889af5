"""Plain-text tables for the command line."""

from __future__ import annotations

from typing import Iterable, Sequence


def format_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Left-align the first column, right-align the others."""
    body = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[c]) for r in body)) if body else len(str(h)) for c, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(widths[c]) if c == 0 else cell.rjust(widths[c]) for c, cell in enumerate(cells))

    return "\n".join([line([str(h) for h in header]), line(["-" * w for w in widths]), *(line(r) for r in body)])

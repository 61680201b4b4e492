"""Terminal tables: every column, long values cut, pseudonyms kept whole on one line, a pager on a TTY."""
from __future__ import annotations

import datetime as dt
import os
import pydoc
import re
from typing import Any

from rich.console import Console
from rich.table import Table

from ibet.cli.console import console, state

#: Cells longer than this are cut with an ellipsis (pseudonyms excepted: they are ids to copy).
MAX_CELL = 48
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def display(v: Any) -> str:
    """A cell for reading: integers with separators, shares with 4 digits, big amounts without cents."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v.is_integer():
            return f"{v:,.0f}"
        if abs(v) < 1:
            return f"{v:.4g}"
        return f"{v:,.4f}".rstrip("0").rstrip(".")
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, (list, tuple)):
        v = ", ".join(map(str, v))
    text = str(v).replace("\n", " ")
    if len(text) > MAX_CELL and not _HEX64.match(text):
        text = text[:MAX_CELL - 1] + "…"
    return text


def render_table(columns: list[str], rows: list, title: str, *, total: int | None = None, hint: str = "") -> None:
    """Print ``rows`` with every column (all-NULL ones too); a footer says when rows were left out."""
    t = Table(title=title, show_lines=False, title_justify="left", caption_justify="left")
    for i, c in enumerate(columns):
        numeric = any(isinstance(r[i], (int, float)) and not isinstance(r[i], bool) for r in rows)
        pseudo = any(isinstance(r[i], str) and _HEX64.match(r[i]) for r in rows)
        t.add_column(c, justify="right" if numeric else "left", no_wrap=pseudo or i == 0,
                     overflow="ignore" if pseudo else "fold", min_width=64 if pseudo else None)
    for r in rows:
        t.add_row(*(display(v) for v in r))
    shown = len(rows)
    if total is not None and total > shown:
        t.caption = f"{total:,} rows, showing {shown:,}: {hint or 'use --limit N or --all, or -f csv'}"
    else:
        t.caption = f"{shown:,} row{'s' if shown != 1 else ''}"
    # render at the table's natural width: a wide result scrolls sideways (pager) rather than
    # squeezing 30 columns into 80 characters
    width = max(console.width, console.measure(t, options=console.options.update(width=100_000)).maximum)
    wide = Console(width=width, force_terminal=console.is_terminal, color_system=console.color_system,
                   record=False, file=open(os.devnull, "w"))  # noqa: SIM115 - capture only
    with wide.capture() as cap:
        wide.print(t)
    text = cap.get()
    too_big = width > console.width or text.count("\n") > (console.height or 40) - 2
    if console.is_terminal and not state.quiet and too_big:
        pydoc.pipepager(text, os.environ.get("IBET_PAGER", "less -S -R -F -X"))
    else:
        print(text, end="")

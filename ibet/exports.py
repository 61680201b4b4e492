"""Tabular exports (CSV, JSON, XLSX, Markdown) that are safe to open in a spreadsheet.

A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is read as a
formula by Excel, LibreOffice and Google Sheets (CSV injection, OWASP). Every text cell
of a CSV or XLSX export is therefore prefixed with an apostrophe when it starts so;
numbers stay numbers.
"""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import re
from pathlib import Path
from typing import Any, Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` made inert for a spreadsheet (text only; numbers and dates unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([safe_cell(c) for c in columns])
    for r in rows:
        w.writerow(["" if v is None else safe_cell(_plain(v)) for v in r])
    return buf.getvalue()


def to_json(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    return json.dumps([{c: _plain(v) for c, v in zip(columns, r)} for r in rows], indent=2, default=str)


def to_markdown(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:,.4f}".rstrip("0").rstrip(".") if abs(v) < 1 else f"{v:,.2f}".removesuffix(".00")
        return str(_plain(v)).replace("|", "\\|").replace("\n", " ")
    head = "| " + " | ".join(columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    return "\n".join([head, sep] + ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]) + "\n"


def write_xlsx(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]], sheet: str = "data") -> None:
    """One sheet, header row bold and frozen; text cells made inert."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\\/*?:\[\]]", " ", sheet)[:31] or "data"
    ws.append([safe_cell(c) for c in columns])
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in rows:
        out = []
        for v in r:
            v = _plain(v)
            if isinstance(v, list):
                v = ", ".join(map(str, v))
            out.append(safe_cell(v))
        ws.append(out)
    ws.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    tmp.replace(path)

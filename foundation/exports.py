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
from typing import Any, Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` made inert for a spreadsheet (text only; numbers and dates unchanged).

    Spreadsheets trim leading blanks before deciding that a cell is a formula, so
    ``" =1+1"`` and ``"\t=1+1"`` are neutralized as well as ``"=1+1"``."""
    if isinstance(value, str) and (value.startswith(FORMULA_PREFIXES)
                                   or value.lstrip(" \t\r\n\u00a0").startswith(FORMULA_PREFIXES)):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)  # a count is 72, not 72.0
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

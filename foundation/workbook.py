"""xlsx workbooks for evaluators: one sheet per part, real numbers and dates, charts, inert text.

A thin layer over openpyxl so every report writes sheets the same way: a bold frozen header,
column widths, numbers as numbers (counts as integers, money with separators), dates as
dates, and text made inert for spreadsheets (``foundation.exports.safe_cell``). Written to a
temporary name and moved into place, so a reader never opens half a workbook.
"""
from __future__ import annotations

import datetime as dt
import decimal
import re
from pathlib import Path
from typing import Any, Sequence

from openpyxl import Workbook as _Book
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from foundation.exports import safe_cell
from foundation.lake import atomic_write

MONEY = '#,##0;-#,##0'
COUNT = '#,##0'


def cell_value(v: Any) -> Any:
    """A Python value as an xlsx cell: integral floats as ints, aware datetimes in UTC, text inert."""
    if isinstance(v, decimal.Decimal):
        v = float(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(v, (list, tuple)):
        return safe_cell(", ".join(map(str, v)))
    return safe_cell(v)


class Workbook:
    """Sheets added in order; ``save`` writes atomically."""

    def __init__(self) -> None:
        self.book = _Book()
        self._first = True

    def sheet(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
              widths: Sequence[int] | None = None, wrap: bool = False, money_columns: Sequence[int] = (),
              count_columns: Sequence[int] = ()) -> Any:
        ws = self.book.active if self._first else self.book.create_sheet()
        self._first = False
        ws.title = re.sub(r"[\\/*?:\[\]]", " ", title)[:31] or "sheet"
        ws.append([safe_cell(c) for c in columns])
        for c in ws[1]:
            c.font = Font(bold=True)
        for r in rows:
            ws.append([cell_value(v) for v in r])
        for i, width in enumerate(widths or [], 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        for row in ws.iter_rows(min_row=2):
            for i, c in enumerate(row):
                if wrap:
                    c.alignment = Alignment(wrap_text=True, vertical="top")
                if i in money_columns and isinstance(c.value, (int, float)):
                    c.number_format = MONEY
                elif i in count_columns and isinstance(c.value, int):
                    c.number_format = COUNT
                elif isinstance(c.value, dt.datetime):
                    c.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(c.value, dt.date):
                    c.number_format = "yyyy-mm-dd"
        ws.freeze_panes = "A2"
        return ws

    def chart(self, ws: Any, kind: str, title: str, *, categories: int, series: Sequence[int], rows: int,
              anchor: str, y_title: str = "") -> None:
        """A bar or line chart of columns ``series`` (0-based) against column ``categories``, rows 2..rows+1."""
        chart = BarChart() if kind == "bar" else LineChart()
        chart.title, chart.y_axis.title = title, y_title
        chart.height, chart.width = 7.5, 16
        for col in series:
            data = Reference(ws, min_col=col + 1, min_row=1, max_row=rows + 1)
            chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=categories + 1, min_row=2, max_row=rows + 1))
        ws.add_chart(chart, anchor)

    def save(self, path: Path) -> None:
        atomic_write(path, self.book.save)


def write_xlsx(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]], sheet: str = "data") -> None:
    """One sheet (``--format xlsx``): header row bold and frozen; numbers and dates as such, text inert."""
    book = Workbook()
    book.sheet(sheet, columns, rows)
    book.save(path)

"""The program-review workbook: one sheet per part, real numbers and dates, native charts."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from foundation.registry import PARTNERS
from foundation.workbook import Workbook
from warehouse.dpr_render import add_dpr_sheets
from warehouse.indicators import SUPPRESSED


def _wide(table: Any, indicators: list[str], x: str, column: str = "ALL", detail: str = "") -> list[list[Any]]:
    """Rows of x then one value per indicator (withheld cells empty, so charts show gaps)."""
    values: dict[Any, dict[str, Any]] = {}
    for r in table.rows:
        row = dict(zip(table.columns, r))
        if row["indicator"] in indicators and row["detail"] == detail:
            v = row.get(column)
            values.setdefault(row[x], {})[row["indicator"]] = None if v == SUPPRESSED else v
    return [[k, *(values[k].get(i) for i in indicators)] for k in sorted(values)]


def write_workbook(data: dict[str, Any], path: Path) -> None:
    book = Workbook()
    add_dpr_sheets(book, data["dpr"])
    head = data["headline"]
    book.sheet("Headline", head.columns, head.rows, widths=[28, 10, 8, 11, 8] + [13] * (len(head.columns) - 5))
    trend_cols = ["planned_spending_cad", "actual_spending_cad", "interdictions", "arrests", "outreach_events",
                  "tips_received"]
    trend_rows = _wide(data["trend"], trend_cols, "fiscal_year")
    ws = book.sheet("Trend", ["fiscal_year", *trend_cols], trend_rows, widths=[12] + [18] * len(trend_cols),
                    money_columns=(1, 2), count_columns=(3, 4, 5, 6))
    if trend_rows:
        book.chart(ws, "line", "Planned vs actual spending (CAD)", categories=0, series=[1, 2], rows=len(trend_rows),
                   anchor="I2", y_title="CAD")
        book.chart(ws, "line", "Interdictions and arrests", categories=0, series=[3, 4], rows=len(trend_rows),
                   anchor="I18", y_title="count")
    quarters = data["quarters"]
    partners = [a for a in PARTNERS if a in quarters.columns]
    q_rows = []
    for period in sorted({r[quarters.columns.index("period")] for r in quarters.rows}):
        row = next((dict(zip(quarters.columns, r)) for r in quarters.rows
                    if r[0] == "interdictions" and r[quarters.columns.index("period")] == period), {})
        q_rows.append([period, *(None if row.get(a) == SUPPRESSED else row.get(a) for a in partners)])
    ws = book.sheet("Quarterly", ["quarter", *[f"interdictions {a}" for a in partners]], q_rows,
                    widths=[10] + [18] * len(partners), count_columns=tuple(range(1, len(partners) + 1)))
    if q_rows:
        book.chart(ws, "bar", f"Interdictions by partner, quarters of {data['label']}", categories=0,
                   series=list(range(1, len(partners) + 1)), rows=len(q_rows), anchor="H2", y_title="interdictions")
    outreach = _wide(quarters, ["outreach_events", "tips_received"], "period", detail="ALL")
    ws = book.sheet("Outreach", ["quarter", "outreach_events", "tips_received"], outreach, widths=[10, 18, 18],
                    count_columns=(1, 2))
    if outreach:
        book.chart(ws, "bar", "Outreach events and tips received", categories=0, series=[1, 2], rows=len(outreach),
                   anchor="E2", y_title="count")
    info = data["about"]
    book.sheet("Definitions", ["indicator", "unit", "definition"], info["definitions"], widths=[30, 8, 100])
    book.sheet("About", ["item", "value"], [
        ["report", f"program review {data['label']} (trend from {data['first']})"], ["audience file", info["audience"]],
        ["build", info["build_id"]], ["built at (UTC)", info["built_at"]],
        ["suppression threshold", info["threshold"]], ["suppression method", info["method"]],
        ["legend", info["legend"]],
        ["coverage", "first_day/last_day: the days with data; coverage: their share of the period; "
                     "agencies_reporting: partners with data in the row's total"]], widths=[24, 120], wrap=True)
    book.save(path)

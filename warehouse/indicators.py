"""Evaluators' indicators for one fiscal year, pivoted for reading and exporting."""
from __future__ import annotations

import re
from typing import Any

from ibet.registry import PARTNERS
from ibet.settings import Settings
from warehouse import access

#: Shown in a pivot cell whose value the evaluator file withholds.
SUPPRESSED = "suppressed (<5)"


def parse_fiscal_year(label: str) -> tuple[str, str]:
    """``2006-07`` -> ("CAN", "2006-07"); ``FY2007`` -> ("USA", "FY2007"); anything else is an error."""
    text = label.strip()
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if m:
        if (int(m.group(1)) + 1) % 100 != int(m.group(2)):
            raise ValueError(f"{label!r}: a Canadian fiscal year spans two consecutive years, e.g. 2006-07")
        return "CAN", text
    m = re.fullmatch(r"(?i)FY\s?(\d{4})", text)
    if m:
        return "USA", f"FY{m.group(1)}"
    raise ValueError(f"{label!r} is not a fiscal year: use 2006-07 (Canada, April-March) "
                     f"or FY2007 (US, October-September)")


def indicator_table(settings: Settings, fiscal_year: str, audience: str = "evaluator",
                    region: str = "ALL") -> tuple[list[str], list[list[Any]]]:
    """Rows: indicator (and detail); columns: the partners then ALL. Suppressed cells say so."""
    calendar, label = parse_fiscal_year(fiscal_year)
    con = access.connect(settings, audience)
    try:
        rows = con.execute(
            "SELECT indicator, detail, unit, agency_code, value, suppressed FROM mart_indicators "
            "WHERE calendar = ? AND fiscal_year = ? AND region_code = ? ORDER BY indicator, detail",
            [calendar, label, region]).fetchall()
        if not rows:
            years = [r[0] for r in con.execute(
                "SELECT DISTINCT fiscal_year FROM mart_indicators WHERE calendar = ? ORDER BY 1", [calendar]).fetchall()]
            raise LookupError(f"no indicators for {label} (region {region}) in the {audience} file; "
                              f"fiscal years with data: {', '.join(years) or 'none'}")
        order = [r[0] for r in con.execute("SELECT indicator FROM dim_indicator").fetchall()]
    finally:
        con.close()
    agencies = [a for a in (*PARTNERS, "ALL") if any(r[3] == a for r in rows)]
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    for ind, detail, unit, agency, value, suppressed in rows:
        cells.setdefault((ind, detail, unit), {})[agency] = SUPPRESSED if suppressed else value
    keys = sorted(cells, key=lambda k: (order.index(k[0]) if k[0] in order else len(order), k[1]))
    columns = ["indicator", "detail", "unit", *agencies]
    return columns, [[k[0], k[1], k[2], *(cells[k].get(a) for a in agencies)] for k in keys]

"""The horizontal-initiative report (RCMP DPR FY2006-07 shape), as Markdown or HTML."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from ibet.settings import Settings
from warehouse import access
from warehouse.indicators import parse_fiscal_year

TEMPLATES = Path(__file__).resolve().parent / "templates"


def money(value: float | None, currency: str = "") -> str:
    """$25,000,000 (cents only when there are some)."""
    if value is None:
        return "n/a"
    text = ("-" if value < 0 else "") + f"${abs(value):,.2f}".removesuffix(".00")
    return f"{text} {currency}".strip() if currency and currency != "CAD" else text


def millions(value: float) -> str:
    m = value / 1_000_000
    return f"${m:,.0f} M" if m == int(m) else f"${m:,.1f} M"


def dpr_context(settings: Settings, fiscal_year: str, audience: str = "evaluator") -> dict[str, Any]:
    calendar, label = parse_fiscal_year(fiscal_year)
    if calendar != "CAN":
        raise ValueError("the horizontal-initiative table is reported by Canadian fiscal year, e.g. 2006-07")
    con = access.connect(settings, audience)
    try:
        rel = con.execute("SELECT * FROM mart_dpr_horizontal WHERE fiscal_year = ?", [label])
        cols = [d[0] for d in rel.description]
        rows = [dict(zip(cols, r)) for r in rel.fetchall()]
        if not rows:
            years = [r[0] for r in con.execute("SELECT DISTINCT fiscal_year FROM mart_dpr_horizontal ORDER BY 1")
                     .fetchall()]
            raise LookupError(f"no finance figures for {label} in the {audience} file "
                              f"(send program/finance_{label}.csv); years with figures: {', '.join(years) or 'none'}")
        built = con.execute("SELECT built_at FROM meta_build").fetchall()[0][0]
    finally:
        con.close()
    first = rows[0]
    planned_cad = sum(r["planned_cad"] or 0 for r in rows)
    actual_cad = sum(r["actual_cad"] or 0 for r in rows)
    return {
        "fiscal_year": label, "program": first["program"], "lead": first["lead_department"],
        "allocation": money(first["total_allocation_cad"]),
        "allocation_words": f"{millions(first['total_allocation_cad'])} over {first['allocation_years']} years, "
                            f"{first['allocation_start']} to {first['allocation_end']}",
        "planned_total": money(planned_cad), "actual_total": money(actual_cad),
        "variance_total": money(actual_cad - planned_cad),
        "partners": [{**r, "planned": money(r["planned_spending"], r["currency"]),
                      "actual": money(r["actual_spending"], r["currency"]),
                      "variance": money(r["variance_cad"])} for r in rows],
        "notes": [(r["partner"], r["note"]) for r in rows if r["note"]],
        "audience": audience, "built_at": built,
    }


def render_dpr(settings: Settings, fiscal_year: str, fmt: str = "md", audience: str = "evaluator") -> str:
    """The report as Markdown (``md``) or a standalone HTML page (``html``)."""
    if fmt not in ("md", "html"):
        raise ValueError("format must be md or html")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html"]),
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    return env.get_template(f"dpr.{fmt}.j2").render(**dpr_context(settings, fiscal_year, audience))

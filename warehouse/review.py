"""The program-review report: what an evaluator brings to a program review, in one file.

The DPR table (``warehouse.dpr``), the headline indicators of the year with what they cover,
their multi-year trend and their quarters, charts (planned vs actual spending, interdictions by
partner, outreach and tips, interception rate), the definitions, and the suppression legend.
HTML is self-contained (charts are inline SVG: nothing loads from the network); the xlsx has
one sheet per part, real numbers and dates, native charts and a definitions sheet.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from foundation.lake import write_text
from foundation.registry import PARTNERS
from foundation.settings import Settings
from foundation.vocabulary import parse_fiscal_year
from warehouse import charts
from warehouse.dpr import build_dpr
from warehouse.indicators import SUPPRESSED, about, indicator_table

HEADLINE = ["events_reported", "joint_operations", "interdictions", "arrests", "seizure_value_cad", "subjects_linked",
            "intel_led_share", "interception_rate", "outreach_events", "outreach_attendance", "tips_received",
            "radio_tests", "radio_pass_rate", "median_sharing_latency_hours", "planned_spending_cad",
            "actual_spending_cad", "spending_variance_cad", "cost_per_interdiction_cad"]
TREND = ["events_reported", "interdictions", "arrests", "joint_operations", "outreach_events", "tips_received",
         "interception_rate", "planned_spending_cad", "actual_spending_cad"]
QUARTERLY = ["interdictions", "outreach_events", "tips_received", "interception_rate"]
#: series names in the charts' legends
LABELS = {"planned_spending_cad": "planned", "actual_spending_cad": "actual", "outreach_events": "outreach events",
          "tips_received": "tips received", "interception_rate": "interception rate"}


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame([dict(zip(self.columns, r)) for r in self.rows], infer_schema_length=None)


def _table(call: Any, *args: Any, **kwargs: Any) -> Table:
    try:
        return Table(*call(*args, **kwargs))
    except LookupError:  # no data for that span: the section says so
        return Table([], [])


def _value(v: Any) -> float | None:
    return None if v is None or v == SUPPRESSED else float(v)


def _long(t: Table, indicators: list[str], x: str, agencies: list[str], detail: str = "") -> pl.DataFrame:
    """(x, series, value) for charts; withheld cells are left out (gaps, not zeros)."""
    out = []
    for r in t.rows:
        row = dict(zip(t.columns, r))
        if row["indicator"] in indicators and row["detail"] == detail:
            for a in agencies:
                v = _value(row.get(a))
                if v is not None:
                    out.append({x: row[x], "series": a if len(indicators) == 1 else LABELS.get(row["indicator"],
                                                                                            row["indicator"]),
                                "value": v,
                                "indicator": row["indicator"], "agency": a})
    return pl.DataFrame(out, schema={x: pl.Utf8, "series": pl.Utf8, "value": pl.Float64, "indicator": pl.Utf8,
                                     "agency": pl.Utf8})


def gather(settings: Settings, fiscal_year: str, audience: str = "evaluator", years: int = 5) -> dict[str, Any]:
    calendar, label = parse_fiscal_year(fiscal_year)
    if calendar != "CAN":
        raise ValueError("the program review follows the Canadian fiscal year of the DPR, e.g. 2026-27")
    first = f"{int(label[:4]) - years + 1}-{(int(label[:4]) - years + 2) % 100:02d}"
    dpr = build_dpr(settings, label, audience)
    headline = _table(indicator_table, settings, label, audience=audience, only=HEADLINE)
    trend = _table(indicator_table, settings, None, audience=audience, first=first, last=label, only=TREND)
    quarters = _table(indicator_table, settings, label, audience=audience, grain="quarter", only=QUARTERLY)
    if not headline.rows:
        raise LookupError(f"no indicators for {label} in the {audience} file: build with that year's data first")
    partners = [a for a in PARTNERS if a in headline.columns]
    spend = _long(headline, ["planned_spending_cad", "actual_spending_cad"], "fiscal_year", partners)
    spend = spend.with_columns(pl.col("indicator").replace(LABELS).alias("series"))
    figures = {
        "spending": charts.grouped_bars(spend, "agency", "value", "series", f"Planned vs actual spending {label}, by "
                                        "partner", "CAD"),
        "spending_trend": charts.lines(
            _long(trend, ["planned_spending_cad", "actual_spending_cad"], "fiscal_year", ["ALL"]),
            "fiscal_year", "value", "series", "Planned vs actual spending, all partners", "CAD"),
        "interdictions": charts.stacked_bars(_long(quarters, ["interdictions"], "period", partners), "period", "value",
                                             "series", f"Interdictions by partner, quarters of {label}", "interdictions"),
        "interdictions_trend": charts.lines(_long(trend, ["interdictions", "arrests"], "fiscal_year", ["ALL"]),
                                            "fiscal_year", "value", "series", "Interdictions and arrests by fiscal "
                                                                              "year", "count"),
        "outreach": charts.lines(_long(quarters, ["outreach_events", "tips_received"], "period", ["ALL"], "ALL"),
                                 "period", "value", "series", f"Outreach events and tips received, quarters of {label}",
                                 "count"),
        "interception": charts.lines(_long(quarters, ["interception_rate"], "period", ["cbp", "ALL"]), "period",
                                     "value", "series", f"Interception rate, quarters of {label}", "share", share=True),
    }
    return {"label": label, "first": first, "dpr": dpr, "headline": headline, "trend": trend, "quarters": quarters,
            "figures": figures, "about": about(settings, audience), "audience": audience}


def write_review(settings: Settings, fiscal_year: str, path: Path, fmt: str = "html", audience: str = "evaluator",
                 years: int = 5) -> Path:
    """Write the report (``html`` or ``xlsx``) to ``path`` atomically, owner/group-only; returns the path."""
    if fmt not in ("html", "xlsx"):
        raise ValueError("format must be html or xlsx")
    data = gather(settings, fiscal_year, audience, years)
    if fmt == "xlsx":
        from warehouse.review_workbook import write_workbook

        write_workbook(data, path)
        return path
    from warehouse.dpr_render import context, environment

    env = environment()
    env.filters["cell"] = display
    html = env.get_template("review.html.j2").render(**{**context(data["dpr"]), **data})
    write_text(path, html)
    return path


def display(v: Any, unit: str = "") -> str:
    """A cell for reading: counts with separators, shares as percentages, money without cents."""
    if v is None:
        return ""
    if v == SUPPRESSED:
        return SUPPRESSED
    if isinstance(v, float) and unit == "share":
        return f"{v:.1%}"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{v:,.0f}" if float(v).is_integer() or abs(v) >= 1000 else f"{v:,.2f}"
    return str(v)

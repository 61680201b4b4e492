"""The horizontal-initiative table of the Departmental Performance Report, row by row as published.

The rows, their order and their labels are those of the RCMP's table for FY2006-07 (seed
000): what evaluators know and compare with. Words come from the program reference
(``program_reference.yml``: reference data, not code); spending comes from the finance
files in the published file; measured results come from the evaluator's indicators and
are labelled as computed. The headline is the **federal** program (Canadian federal
partners, CAD). Non-federal (US) partners are reported apart, in their own currency, and
never added to it. A year without data says so row by row: nothing is invented.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from foundation import reference
from foundation.registry import AGENCIES
from foundation.settings import Settings
from foundation.vocabulary import parse_fiscal_year
from warehouse import access
from warehouse.indicators import NO_METHOD, build_meta

#: measured per partner, in this order: (indicator, words)
PARTNER_MEASURES = (("events_reported", "reports shared with IBET partners"), ("interdictions", "interdictions"),
                    ("arrests", "arrests and apprehensions"), ("joint_operations", "joint operations"),
                    ("seizure_value_cad", "value seized (CAD)"))
#: measured for the program as a whole (reported in the lead department's row)
PROGRAM_MEASURES = (("outreach_events", "outreach events"), ("outreach_attendance", "outreach attendance"),
                    ("tips_received", "tips received after outreach"), ("radio_tests", "radio interoperability "
                                                                                       "field tests"),
                    ("radio_tests_passed", "radio tests passed"))
COMPUTED = "Computed by the warehouse"


@dataclass
class Row:
    label: str
    value: str  #: plain text; lines separated by "\n"
    source: str  #: reference, finance, computed, reference+computed, none


@dataclass
class Dpr:
    fiscal_year: str
    rows: list[Row]
    non_federal: list[dict[str, Any]] = field(default_factory=list)
    audience: str = "evaluator"
    built_at: Any = None
    suppression: str = ""


def years_words(label: str) -> str:
    """``2006-07`` -> ``2006-2007`` (as the published table writes a fiscal year)."""
    return f"{label[:4]}-{int(label[:4]) + 1}"


def amount(value: float, currency: str = "", *, full: bool = False) -> str:
    """Whole dollars, as the DPR writes them: ``$25 M`` for round millions (unless ``full``), else
    ``$23,868,339``; a currency other than CAD is named."""
    sign, v = ("-" if value < 0 else ""), abs(round(value))
    text = f"${v / 1e6:,.{0 if v % 1_000_000 == 0 else 1}f} M" if v and v % 100_000 == 0 and not full else f"${v:,}"
    return f"{sign}{text}" + (f" {currency}" if currency and currency != "CAD" else "")


def date_words(day: dt.date | str) -> str:
    d = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
    return f"{d:%B} {d.day}, {d.year}"


def short(agency: str) -> str:
    return agency.upper()


def _measure(name: str, words: str, cells: dict[tuple[str, str], tuple[Any, bool]], agency: str) -> str | None:
    value, hidden = cells.get((name, agency), (None, False))
    if hidden:
        return f"{words}: withheld (small count, or would reveal one)"
    if value is None:
        return None
    return f"{words}: {amount(value) if name.endswith('_cad') else f'{round(value):,}'}"


def _computed(year: str, measures: list[str], coverage: str) -> str:
    if not measures:
        return f"{COMPUTED}: no records in the warehouse for {year}."
    return f"{COMPUTED} ({coverage}): " + "; ".join(measures) + "."


def _read(settings: Settings, audience: str, label: str) -> dict[str, Any]:
    con = access.connect(settings, audience)
    try:
        finance = con.execute("SELECT agency_code, planned_spending, actual_spending, currency, planned_cad, "
                              "actual_cad, note FROM fact_finance WHERE fiscal_year_can = ? ORDER BY agency_code",
                              [label]).fetchall()
        cells = {(ind, ag): (v, s) for ind, ag, v, s in con.execute(
            "SELECT indicator, agency_code, value, suppressed FROM mart_indicators WHERE calendar = 'CAN' AND "
            "fiscal_year = ? AND period = 'year' AND region_code = 'ALL' AND detail IN ('', 'ALL')",
            [label]).fetchall()}
        cover = con.execute(
            "SELECT min(data_first_day), max(data_last_day), max(coverage_share) FROM mart_indicators WHERE "
            "calendar = 'CAN' AND fiscal_year = ? AND period = 'year' AND indicator = 'events_reported' AND "
            "agency_code = 'ALL' AND region_code = 'ALL'", [label]).fetchone()
        _, built, _, method = build_meta(con)
    finally:
        con.close()
    return {"finance": finance, "cells": cells, "cover": cover, "built": built,
            "method": "" if method == NO_METHOD else method}


def build_dpr(settings: Settings, fiscal_year: str, audience: str = "evaluator") -> Dpr:
    """The table's rows for one Canadian fiscal year."""
    calendar, label = parse_fiscal_year(fiscal_year)
    if calendar != "CAN":
        raise ValueError("the horizontal-initiative table is reported by Canadian fiscal year, e.g. 2006-07")
    ref = reference.program_reference()
    program, texts = ref["program"], (ref.get("years") or {}).get(label) or {}
    data = _read(settings, audience, label)
    year = years_words(label)
    federal = list(program["federal_partners"])
    lead = program["lead_agency"]
    first, last, share = data["cover"]
    coverage = (f"{date_words(first)} to {date_words(last)}, {share:.1%} of the fiscal year, {audience} file"
                if first else "")
    allocation = f"{amount(program['total_allocation_cad'])} over {program['allocation_years']} years"

    rows = [Row("Name of Program", program["name"], "reference"),
            Row("Lead Department", program["lead_department"], "reference"),
            Row("Total Allocation", allocation, "reference"),
            Row("Start Date", date_words(program["start_date"]), "reference"),
            Row("End Date", date_words(program["end_date"]), "reference"),
            Row("Description", program["description"], "reference"),
            Row("Shared Outcome(s)", program["shared_outcomes"], "reference"),
            Row("Governance Structure(s)", program["governance"], "reference"),
            Row("Federal Partners Involved in each program",
                "\n".join(f"{i}. {short(a)}" for i, a in enumerate(federal, 1)), "reference"),
            Row("Total Federal Funding Allocation (start to end date):", allocation, "reference")]

    fed_finance = [f for f in data["finance"] if f[0] in federal]
    if fed_finance:
        planned = sum(f[4] or 0 for f in fed_finance)
        actual = sum(f[5] or 0 for f in fed_finance)
        notes = [f"* {f[6]}" for f in fed_finance if f[6]]
        rows.append(Row(f"Planned Spending for {year}", amount(planned), "finance"))
        rows.append(Row(f"Actual Spending in {year}", "\n".join([amount(actual), *notes]), "finance"))
    else:
        missing = f"No finance figures received for {year} (program/finance_{label}.csv)."
        rows += [Row(f"Planned Spending for {year}", missing, "none"), Row(f"Actual Spending in {year}", missing,
                                                                          "none")]

    for a in federal:
        text = (texts.get("planned_results") or {}).get(a)
        rows.append(Row(f"Planned Results for {year}: {short(a)}",
                        text or f"No planned results in the program reference for {year}.",
                        "reference" if text else "none"))

    achieved = texts.get("results_achieved") or {}
    partner_rows = []
    for a in federal:
        measures = [m for name, words in PARTNER_MEASURES if (m := _measure(name, words, data["cells"], a))]
        if a == lead:
            measures += [m for name, words in PROGRAM_MEASURES
                         if (m := _measure(name, f"{words} (program-wide)", data["cells"], "ALL"))]
        text = achieved.get(a)
        if text or measures:
            parts = [text] if text else []
            parts.append(_computed(year, measures, coverage))
            partner_rows.append(Row(f"Results Achieved in {year}: {short(a)}", "\n".join(parts),
                                    "reference+computed" if text else "computed"))
    rows += partner_rows or [Row(f"Results Achieved in {year}: {short(a)}",
                                 f"No results published and no records in the warehouse for {year}.", "none")
                             for a in federal]

    non_federal = [a for a, ag in AGENCIES.items() if ag.country and a not in federal]
    nf_text = texts.get("results_achieved_non_federal")
    nf_measures = []
    for a in non_federal:
        m = [x for name, words in PARTNER_MEASURES if (x := _measure(name, words, data["cells"], a))]
        if m:
            nf_measures.append(f"{short(a)}: " + ", ".join(m))
    parts = ([nf_text] if nf_text else []) + ([_computed(year, nf_measures, coverage)] if nf_measures else [])
    rows.append(Row("Results Achieved by Non-federal Partners:", "\n".join(parts) or
                    f"No results published and no records in the warehouse for {year}.",
                    "reference" if nf_text and not nf_measures else "computed" if nf_measures else "none"))
    rows.append(Row("Contact Information:", program["contact"], "reference"))

    spending = [{"partner": short(f[0]), "name": AGENCIES[f[0]].name, "currency": f[3],
                 "planned": f[1], "actual": f[2], "variance": (f[2] or 0) - (f[1] or 0), "note": f[6] or ""}
                for f in data["finance"] if f[0] in non_federal]
    built = data["built"].astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if data["built"] else ""
    return Dpr(label, rows, spending, audience, built, data["method"])

"""Evaluators' indicators pivoted for reading and exporting: one or several fiscal years, by year or quarter.

Every row says what it covers (the first and last day with data, the share of the period,
the partners reporting) and carries its note (e.g. spending prorated to the other calendar),
so no format can show a figure without its caveats. Values are the evaluator file's, with its
suppression: a withheld cell says so.
"""
from __future__ import annotations

from typing import Any, Literal

from foundation.registry import PARTNERS
from foundation.vocabulary import parse_fiscal_year
from foundation.settings import Settings
from warehouse import access

#: Shown in a pivot cell whose value the evaluator file withholds (primary or complementary suppression).
SUPPRESSED = "withheld"
LEGEND = ("withheld: a count below the threshold, a value resting on fewer records, or a cell withheld so that "
          "none of those can be worked out from the published totals")
Grain = Literal["year", "quarter"]
COVERAGE_COLUMNS = ["first_day", "last_day", "coverage", "agencies_reporting", "note"]


def fiscal_years_between(first: str, last: str) -> tuple[str, list[str]]:
    """The calendar and every fiscal year from ``first`` to ``last`` (both in one calendar)."""
    cal_a, a = parse_fiscal_year(first)
    cal_b, b = parse_fiscal_year(last)
    if cal_a != cal_b:
        raise ValueError(f"--from {first} and --to {last} are in different fiscal calendars: use 2006-07..2008-09 "
                         "(Canada) or FY2007..FY2009 (US)")
    start, end = (int(x[:4]) if cal_a == "CAN" else int(x[2:]) for x in (a, b))
    if end < start:
        raise ValueError(f"--to {last} is before --from {first}")
    if end - start > 50:
        raise ValueError("a series spans at most 50 fiscal years")
    years = [f"{y}-{(y + 1) % 100:02d}" if cal_a == "CAN" else f"FY{y}" for y in range(start, end + 1)]
    return cal_a, years


def _number(v: Any, unit: str) -> Any:
    """Counts as integers (72, never 72.0); others as they are."""
    if v is not None and unit == "count" and float(v).is_integer():
        return int(v)
    return v


def indicator_table(settings: Settings, fiscal_year: str | None = None, *, audience: str = "evaluator",
                    region: str = "ALL", first: str | None = None, last: str | None = None,
                    grain: Grain = "year", only: list[str] | None = None) -> tuple[list[str], list[list[Any]]]:
    """Rows: indicator (and detail) x fiscal year (x quarter); columns: the partners, ALL, then coverage.

    Either ``fiscal_year`` or ``first``..``last`` (a multi-year series)."""
    if fiscal_year:
        calendar, years = parse_fiscal_year(fiscal_year)[0], [parse_fiscal_year(fiscal_year)[1]]
    elif first and last:
        calendar, years = fiscal_years_between(first, last)
    else:
        raise ValueError("give --fiscal-year FY, or --from FY --to FY")
    periods = "period = 'year'" if grain == "year" else "period <> 'year'"
    con = access.connect(settings, audience)
    try:
        known = {r[0] for r in con.execute("SELECT indicator FROM dim_indicator").fetchall()}
        unknown = set(only or ()) - known
        if unknown:
            raise ValueError(f"no such indicator: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        rows = con.execute(
            f"SELECT indicator, detail, unit, fiscal_year, period, agency_code, value, suppressed, note, "
            f"data_first_day, data_last_day, coverage_share, agencies_reporting FROM mart_indicators "
            f"WHERE calendar = ? AND fiscal_year IN (SELECT unnest(?)) AND region_code = ? AND {periods} "
            f"AND (? OR indicator IN (SELECT unnest(?)))",
            [calendar, years, region, not only, list(only or [])]).fetchall()
        if not rows:
            have = [r[0] for r in con.execute(
                "SELECT DISTINCT fiscal_year FROM mart_indicators WHERE calendar = ? ORDER BY 1", [calendar]).fetchall()]
            label = years[0] if len(years) == 1 else f"{years[0]}..{years[-1]}"
            raise LookupError(f"no indicators for {label} (region {region}) in the {audience} file; "
                              f"fiscal years with data: {', '.join(have) or 'none'}")
        order = [r[0] for r in con.execute("SELECT indicator FROM dim_indicator").fetchall()]
    finally:
        con.close()
    agencies = [a for a in (*PARTNERS, "ALL") if any(r[5] == a for r in rows)]
    cells: dict[tuple, dict[str, Any]] = {}
    cover: dict[tuple, tuple] = {}
    notes: dict[tuple, dict[str, list[str]]] = {}
    for ind, detail, unit, fy, period, agency, value, hidden, note, d0, d1, share, reporting in rows:
        key = (ind, detail, unit, fy, period)
        cells.setdefault(key, {})[agency] = SUPPRESSED if hidden else _number(value, unit)
        if agency == "ALL" or key not in cover:
            cover[key] = (d0, d1, share, reporting)
        if note:
            notes.setdefault(key, {}).setdefault(note, []).append(agency)
    keys = sorted(cells, key=lambda k: (order.index(k[0]) if k[0] in order else len(order), k[1], k[3], k[4]))
    columns = ["indicator", "detail", "unit", "fiscal_year", "period", *agencies, *COVERAGE_COLUMNS]
    out = []
    for k in keys:
        by_note = notes.get(k, {})
        note = "; ".join(n if set(ags) >= set(cells[k]) else f"{', '.join(ags)}: {n}" for n, ags in by_note.items())
        d0, d1, share, reporting = cover[k]
        out.append([*k, *(cells[k].get(a) for a in agencies), d0, d1, share, reporting, note])
    return columns, out


NO_METHOD = "none (not the evaluator file)"


def build_meta(con: Any) -> tuple[str, Any, int, str]:
    """(build id, built at, suppression threshold, suppression method) of an open published file."""
    build_id, built_at, threshold = con.execute(
        "SELECT build_id, built_at, suppression_threshold FROM meta_build").fetchone()
    legend = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'meta_suppression'").fetchone()[0]
    method = con.execute("SELECT method FROM meta_suppression").fetchone()[0] if legend else NO_METHOD
    return build_id, built_at, threshold, method


def about(settings: Settings, audience: str = "evaluator") -> dict[str, Any]:
    """What a reader needs beside the figures: build, suppression legend and method, definitions."""
    con = access.connect(settings, audience)
    try:
        build_id, built_at, threshold, method = build_meta(con)
        definitions = con.execute("SELECT indicator, unit, description FROM dim_indicator").fetchall()
    finally:
        con.close()
    return {"audience": audience, "build_id": build_id, "built_at": built_at, "threshold": threshold,
            "method": method, "legend": LEGEND, "definitions": definitions}


def write_indicator_workbook(settings: Settings, path: Any, columns: list[str], rows: list[list[Any]], *,
                             audience: str, title: str) -> None:
    """Indicators, their definitions and an About sheet (build time, suppression legend and method)."""
    from foundation.workbook import Workbook

    info = about(settings, audience)
    book = Workbook()
    first_partner = columns.index("period") + 1
    book.sheet("Indicators", columns, rows, widths=[28, 14, 8, 11, 8] + [12] * (len(columns) - 10) + [12, 12, 10, 10, 60],
               count_columns=tuple(range(first_partner, columns.index("first_day"))))
    book.sheet("Definitions", ["indicator", "unit", "definition"], info["definitions"], widths=[30, 8, 100])
    book.sheet("About", ["item", "value"], [
        ["report", title], ["audience file", info["audience"]], ["build", info["build_id"]],
        ["built at (UTC)", info["built_at"]], ["suppression threshold", info["threshold"]],
        ["suppression method", info["method"]], ["legend", info["legend"]],
        ["coverage", "first_day/last_day: the days with data; coverage: their share of the period; "
                     "agencies_reporting: partners with data in the row's total"]], widths=[24, 120], wrap=True)
    book.save(path)

"""An attacker's view of the evaluator file: what can be worked out from what it publishes.

Written independently of ``warehouse/suppression.py`` (it reads only the published table):
the attacks a reviewer would try by hand, by subtraction, by linear equations over margins,
and by multiplying a published share by its published basis.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import polars as pl

NOT_SUMS = {"median_sharing_latency_hours", "cost_per_interdiction_cad", "spending_variance_pct"}
#: a published share or ratio with its basis gives back this count
REVEALS = {"interception_rate": "gotaways", "radio_pass_rate": "radio_tests_passed",
           "cost_per_interdiction_cad": "interdictions"}


def cells(mart: pl.DataFrame) -> dict[tuple, float | None]:
    """{(indicator, detail, time, agency, region): additive value or None when withheld}.

    A share is additive in its numerator (share x basis); a quarter is one cell in both calendars,
    so both must agree (a quarter withheld in one calendar and shown in the other is a leak)."""
    out: dict[tuple, float | None] = {}
    for r in mart.iter_rows(named=True):
        if r["indicator"] in NOT_SUMS:
            continue
        time = f"{r['calendar']}:{r['fiscal_year']}" if r["period"] == "year" else f"Q:{r['period_start']}"
        key = (r["indicator"], r["detail"], time, r["agency_code"], r["region_code"])
        value = None if r["suppressed"] else (r["value"] * r["basis_count"] if r["unit"] == "share" else r["value"])
        if key in out and (out[key] is None) != (value is None):
            raise AssertionError(f"quarter {key} withheld in one calendar and published in the other")
        out[key] = value
    return out


def margins(mart: pl.DataFrame, table: dict[tuple, float | None]) -> list[tuple[tuple, list[tuple]]]:
    """Every (total, members) relation an analyst can write from the table's own keys."""
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for key in table:
        ind, det, time, ag, reg = key
        if ag != "ALL":
            groups[(ind, det, time, "ALL", reg)].append(key)
        if reg != "ALL":
            groups[(ind, det, time, ag, "ALL")].append(key)
        if det not in ("", "ALL"):
            groups[(ind, "ALL", time, ag, reg)].append(key)
    years = mart.filter(pl.col("period") == "year").select("calendar", "fiscal_year", "period_start",
                                                          "period_end").unique()
    for cal, fy, start, end in years.iter_rows():
        for key in table:
            ind, det, time, ag, reg = key
            if time.startswith("Q:") and str(start) <= time[2:] <= str(end):
                groups[(ind, det, f"{cal}:{fy}", ag, reg)].append(key)
    return [(total, members) for total, members in groups.items() if total in table]


def by_subtraction(table: dict, rel: list) -> list[tuple]:
    """Withheld cells that are the only unknown of a margin."""
    found = []
    for total, members in rel:
        unknown = [k for k in (total, *members) if table[k] is None]
        if len(unknown) == 1:
            found.append(unknown[0])
    return found


def by_linear_equations(table: dict, rel: list) -> list[tuple]:
    """Withheld cells fixed by all margins solved together: their unit vector is in the row space.

    Margins never mix indicators, so each indicator's system is solved on its own."""
    found: list[tuple] = []
    for indicator in sorted({k[0] for k in table}):
        unknown = sorted(k for k, v in table.items() if v is None and k[0] == indicator)
        if not unknown:
            continue
        col = {k: i for i, k in enumerate(unknown)}
        rows = []
        for total, members in rel:
            if total[0] != indicator:
                continue
            row = np.zeros(len(unknown))
            for k, sign in ((total, 1.0), *((m, -1.0) for m in members)):
                if table[k] is None:
                    row[col[k]] += sign
            if row.any():
                rows.append(row)
        if not rows:
            found += unknown
            continue
        _, s, vt = np.linalg.svd(np.array(rows))
        null = vt[int((s > 1e-8).sum()):]
        found += [k for k in unknown if not len(null) or np.abs(null[:, col[k]]).max() < 1e-8]
    return found


def by_rate_times_basis(mart: pl.DataFrame, threshold: int) -> list[tuple]:
    """Published shares whose numerator or complement is small, and published shares or ratios whose
    count (recoverable as value x basis) is withheld."""
    withheld = {(r["indicator"], r["detail"], r["calendar"], r["fiscal_year"], r["period"], r["agency_code"],
                 r["region_code"]) for r in mart.filter(pl.col("suppressed")).iter_rows(named=True)}
    found = []
    for r in mart.filter(~pl.col("suppressed")).iter_rows(named=True):
        key = (r["detail"], r["calendar"], r["fiscal_year"], r["period"], r["agency_code"], r["region_code"])
        if r["unit"] == "share" and r["basis_count"] is not None:
            numerator = round(r["value"] * r["basis_count"])
            if min(numerator, r["basis_count"] - numerator) < threshold:
                found.append((r["indicator"], *key))
        if r["indicator"] in REVEALS and (REVEALS[r["indicator"]], *key) in withheld:
            found.append((r["indicator"], *key))
    return found


def one_year_mart(rows: list[tuple]) -> pl.DataFrame:
    """A one-year mart in the published shape: rows of (indicator, agency, region, value, withheld)."""
    import datetime as dt

    return pl.DataFrame([{
        "calendar": "CAN", "fiscal_year": "2026-27", "period": "year", "agency_code": ag, "region_code": reg,
        "indicator": ind, "detail": "", "value": None if hidden else float(v), "unit": "count",
        "basis_count": None if hidden else v, "suppressed": hidden, "period_start": dt.date(2026, 4, 1),
        "period_end": dt.date(2027, 3, 31)} for ind, ag, reg, v, hidden in rows],
        schema_overrides={"value": pl.Float64, "basis_count": pl.Int64})

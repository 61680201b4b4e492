"""Expectation suites, kept as code. Each suite audits one frame the gate reads out of DuckDB.

Why frames and not tables: GX has no DuckDB data source (STACK.md), and several checks
(referential integrity, reconciliation with the ingest manifests, the columns that exist)
are naturally answered by one DuckDB query whose small result GX then judges.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

HEX64 = r"^[0-9a-f]{64}$"


def _e(name: str, **kwargs: Any) -> Any:
    import great_expectations.expectations as gxe

    return getattr(gxe, name)(**kwargs)


def events_suite(regions: list[str], categories: list[str], caveats: list[str], today: dt.date) -> list:
    """Frame: fact_events (event_date as days since 1970, which GX compares reliably on pandas)."""
    epoch = dt.date(1970, 1, 1)
    keys = ("event_uid", "agency_code", "region_code", "category", "caveat", "event_date", "occurred_at")
    return [
        _e("ExpectColumnValuesToBeUnique", column="event_uid"),
        *[_e("ExpectColumnValuesToNotBeNull", column=k) for k in keys],
        _e("ExpectColumnValuesToBeInSet", column="region_code", value_set=regions),
        _e("ExpectColumnValuesToBeInSet", column="category", value_set=categories),
        _e("ExpectColumnValuesToBeInSet", column="caveat", value_set=caveats),
        _e("ExpectColumnValuesToBeBetween", column="latitude", min_value=-90, max_value=90),
        _e("ExpectColumnValuesToBeBetween", column="longitude", min_value=-180, max_value=180),
        # coordinates outside every region box are allowed only when flagged as such
        _e("ExpectColumnValuesToNotBeNull", column="area_flag"),
        _e("ExpectColumnValuesToBeBetween", column="persons_count", min_value=0),
        _e("ExpectColumnValuesToBeBetween", column="arrests", min_value=0),
        _e("ExpectColumnValuesToBeBetween", column="event_date", min_value=(dt.date(2000, 1, 1) - epoch).days,
           max_value=(today + dt.timedelta(days=1) - epoch).days),
    ]


def seizures_suite(caveats: list[str]) -> list:
    return [
        _e("ExpectColumnValuesToNotBeNull", column="event_uid"),
        _e("ExpectColumnValuesToBeBetween", column="quantity_kg", min_value=0),
        _e("ExpectColumnValuesToBeBetween", column="quantity_units", min_value=0),
        _e("ExpectColumnValuesToBeBetween", column="value_cad", min_value=0),
        _e("ExpectColumnValuesToBeInSet", column="caveat", value_set=caveats),
    ]


def integrity_suite() -> list:
    """Frame: one row per declared rule of a model (``constraints.checks_sql``), with its failure count."""
    return [_e("ExpectColumnValuesToBeBetween", column="failures", min_value=0, max_value=0),
            _e("ExpectColumnValuesToNotBeNull", column="rule")]


def pseudonym_suite() -> list:
    """Frame: every distinct value of every pseudonym column: all must be 64-hex HMACs."""
    return [_e("ExpectColumnValuesToMatchRegex", column="pseudonym_value", regex=HEX64)]


def columns_suite(forbidden_columns: list[str]) -> list:
    """Frame: every column of the file: none may be of class identifier or free text."""
    return [_e("ExpectColumnValuesToNotBeInSet", column="column_name", value_set=forbidden_columns)]


def caveat_suite(caveats: list[str]) -> list:
    """Frame: every caveat value of every table that has one."""
    return [_e("ExpectColumnValuesToBeInSet", column="caveat", value_set=caveats)]


def evaluator_suite(threshold: int) -> list:
    """Frame: the evaluator file's count cells (unit = count) and every basis count."""
    return [_e("ExpectColumnValuesToBeBetween", column="value", min_value=threshold),
            _e("ExpectColumnValuesToBeBetween", column="basis_count", min_value=threshold)]


def reconciliation_suite() -> list:
    """Frame: per lake partition, staged rows next to the rows the ingest manifest counted."""
    return [_e("ExpectColumnPairValuesToBeEqual", column_A="lake_rows", column_B="manifest_rows"),
            _e("ExpectColumnValuesToNotBeNull", column="manifest_rows")]


def freshness_suite(max_lag_days: int) -> list:
    """Frame: per agency, days its latest extract lags the newest extract of any agency (warning only)."""
    return [_e("ExpectColumnValuesToBeBetween", column="lag_days", min_value=0, max_value=max_lag_days)]


def volume_suite() -> list:
    """Frame: per partner agency of the last published build (or now staged), its staged events.

    An empty lake, or an agency whose events all vanished since the last publication, blocks:
    publishing it would silently drop a partner from every report.
    """
    return [_e("ExpectColumnValuesToBeBetween", column="staged_events", min_value=1)]


def volume_trend_suite(low: float, high: float) -> list:
    """Frame: per agency, its newest extract's events over the median of its recent extracts (warning)."""
    return [_e("ExpectColumnValuesToBeBetween", column="ratio", min_value=low, max_value=high)]


def consistency_suite() -> list:
    """Frame: per fiscal year, events in can ∪ usa and the evaluator's ALL/ALL events_reported (null only
    when suppressed): they must be equal."""
    return [_e("ExpectColumnPairValuesToBeEqual", column_A="shared_events", column_B="evaluator_events",
               ignore_row_if="either_value_is_missing")]


def values_suite() -> list:
    """Frame: per text column of the facts and marts, values that look like a date of birth, a document
    number or a narrative. A free-text value the contract let into an operational column is blocked here."""
    return [_e("ExpectColumnValuesToBeBetween", column="personal_text", min_value=0, max_value=0)]

"""Expectation suites, kept as code. Each suite audits one frame the gate reads out of DuckDB.

Why frames and not tables: GX has no DuckDB data source (STACK.md), and several checks
(referential integrity, reconciliation with the ingest manifests, the columns that exist)
are naturally answered by one DuckDB query whose small result GX then judges. Row-level rules
(events, seizures, pseudonyms, suppression) are counted by DuckDB over the whole table: GX gets
one row of counts, never a column of values, so the gate's memory does not grow with the data.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from foundation.sqltext import literal


def _e(name: str, **kwargs: Any) -> Any:
    import great_expectations.expectations as gxe

    return getattr(gxe, name)(**kwargs)


def _in(values: list[str]) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ")"


def event_rules(regions: list[str], categories: list[str], caveats: list[str], today: dt.date) -> dict[str, str]:
    """fact_events: rule -> the rows that break it (a DuckDB filter). Counted over the whole table in SQL."""
    keys = ("event_uid", "agency_code", "region_code", "category", "caveat", "event_date", "occurred_at")
    return {
        "event_uid_duplicated": "(SELECT count(*) - count(DISTINCT event_uid) FROM fact_events)",
        **{f"{k}_missing": f"{k} IS NULL" for k in keys},
        "region_code_not_a_region": f"region_code NOT IN {_in(regions)}",
        "category_not_in_the_taxonomy": f"category NOT IN {_in(categories)}",
        "caveat_not_for_this_audience": f"caveat NOT IN {_in(caveats)}",
        "latitude_out_of_range": "latitude NOT BETWEEN -90 AND 90",
        "longitude_out_of_range": "longitude NOT BETWEEN -180 AND 180",
        # coordinates outside every region box are allowed only when flagged as such
        "coordinates_not_flagged": "latitude IS NOT NULL AND longitude IS NOT NULL AND in_ibet_area IS NULL",
        "persons_count_negative": "persons_count < 0",
        "arrests_negative": "arrests < 0",
        "event_date_implausible": f"event_date < DATE '2000-01-01' OR event_date > DATE '{today + dt.timedelta(days=1)}'",
    }


def seizure_rules(caveats: list[str]) -> dict[str, str]:
    return {
        "event_uid_missing": "event_uid IS NULL",
        "quantity_kg_negative": "quantity_kg < 0",
        "quantity_units_negative": "quantity_units < 0",
        "value_cad_negative": "value_cad < 0",
        "caveat_not_for_this_audience": f"caveat NOT IN {_in(caveats)}",
    }


def suppression_rules(threshold: int) -> dict[str, str]:
    """mart_indicators of the evaluator file: no count, and no basis, below the threshold is published."""
    return {"count_below_threshold": f"unit = 'count' AND value < {int(threshold)}",
            "basis_below_threshold": f"basis_count < {int(threshold)}"}


def rule_suite(rules: list[str]) -> list:
    """Frame: one row, one column per rule, holding how many rows break it: each must be 0."""
    return [_e("ExpectColumnValuesToBeBetween", column=r, min_value=0, max_value=0) for r in rules]


def integrity_suite() -> list:
    """Frame: one row per declared rule of a model (``constraints.checks_sql``), with its failure count."""
    return [_e("ExpectColumnValuesToBeBetween", column="failures", min_value=0, max_value=0),
            _e("ExpectColumnValuesToNotBeNull", column="rule")]


def columns_suite(forbidden_columns: list[str]) -> list:
    """Frame: every column of the file: none may be of class identifier or free text."""
    return [_e("ExpectColumnValuesToNotBeInSet", column="column_name", value_set=forbidden_columns)]


def caveat_suite(caveats: list[str]) -> list:
    """Frame: every caveat value of every table that has one."""
    return [_e("ExpectColumnValuesToBeInSet", column="caveat", value_set=caveats)]


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

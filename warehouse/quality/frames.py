"""What the gate validates: small frames read out of each candidate file and the staged lake.

Each function returns ``{suite: (frame, expectations, blocking)}``; the frames hold counts,
codes and flags, never a person's value, so nothing sensitive reaches Great Expectations.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb

from contracts.base import PERSONAL_TEXT
from foundation import duck
from foundation.settings import AUDIENCES, SUPPRESSION_THRESHOLD, Settings
from foundation.vocabulary import CATEGORIES
from transforms.canonical import PSEUDONYM_COLUMNS
from transforms.pipelines import pipeline
from warehouse import constraints
from warehouse.quality import suites
from foundation.sqltext import literal as sql_literal


#: Columns that identify an event or a person: allowed for analysts, never in the evaluator file.
#: Text columns that are ours (reference wording), not a partner's value: not scanned.
DESCRIPTIVE_COLUMNS = {"note", "planned_results", "results_achieved", "description", "label", "source",
                       "program", "lead_department", "partner", "agency_name", "reports", "region_name"}


EVENT_LEVEL_COLUMNS = ["event_uid", "source_id", "pseudonym", "latitude", "longitude", "source_row",
                       *PSEUDONYM_COLUMNS]


def forbidden_columns() -> list[str]:
    """Names of every column the contracts class as identifier or free text."""
    from contracts.base import privacy_of
    from foundation.registry import sources

    out: set[str] = set()
    for s in sources():
        for sch in pipeline(s.name).contract.levels.values():
            out |= {n.split(".")[-1] for n, p in privacy_of(sch).items() if p in ("identifier", "free_text")}
    return sorted(out)


def _frames(path: Path, audience: str, today: dt.date, identifying: list[str]) -> dict[str, tuple[Any, list, bool]]:
    """suite name -> (pandas frame, expectations, blocking) for one audience file."""
    con = duck.connect(str(path), read_only=True)
    try:
        caveats = [c for c in AUDIENCES[audience] if c != "ORCON"]
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        cols = con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal").df()
        forbidden = identifying + (EVENT_LEVEL_COLUMNS if audience == "evaluator" else [])
        out: dict[str, tuple[Any, list, bool]] = {}
        out["columns"] = (cols[["table_name", "column_name"]], suites.columns_suite(forbidden), True)
        with_caveat = sorted(cols[cols.column_name == "caveat"].table_name)
        caveat_sql = " UNION ALL ".join(f"SELECT DISTINCT caveat FROM {t}" for t in with_caveat) or \
            "SELECT NULL::VARCHAR AS caveat WHERE FALSE"
        out["caveats"] = (con.execute(caveat_sql).df(), suites.caveat_suite(caveats), True)
        with_keys = cols[cols.column_name.isin([*PSEUDONYM_COLUMNS, "pseudonym"])]
        pseudo = {f"{t}__{c}": f"(SELECT count(*) FROM \"{t}\" WHERE \"{c}\" IS NOT NULL AND NOT "
                               f"regexp_full_match(\"{c}\", '[0-9a-f]{{64}}'))"
                  for t, c in with_keys.itertuples(index=False)}
        out["pseudonyms"] = _rule_counts(con, pseudo or {"no_pseudonym_column": "(SELECT 0)"}, "pseudonyms")
        text = con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal AND data_type = "
                           "'VARCHAR' AND (table_name LIKE 'fact_%' OR table_name LIKE 'mart_%')").fetchall()
        value_sql = " UNION ALL ".join(
            f"SELECT '{t}.{c}' AS column_name, CAST(coalesce(sum(n) FILTER (WHERE regexp_matches(v, $p)), 0) AS "
            f'BIGINT) AS personal_text FROM (SELECT "{c}" AS v, count(*) AS n FROM "{t}" GROUP BY ALL)'
            for t, c in _scanned_text(text)) or "SELECT NULL AS column_name, 0 AS personal_text WHERE FALSE"
        out["values"] = (con.execute(value_sql, {"p": PERSONAL_TEXT}).df(), suites.values_suite(), True)
        if "fact_events" in tables:
            regions = [r for (r,) in con.execute("SELECT region_code FROM dim_region").fetchall()]
            out["events"] = _rule_counts(con, suites.event_rules(regions, list(CATEGORIES), caveats, today),
                                         "fact_events")
            out["seizures"] = _rule_counts(con, suites.seizure_rules(caveats), "fact_seizures")
        # every model's declarations (keys, references, not null, accepted values: sql/<layer>/*.yml)
        out["integrity"] = (con.execute(constraints.checks_sql(tables)).df(), suites.integrity_suite(), True)
        if audience == "evaluator":
            out["suppression"] = _rule_counts(con, suites.suppression_rules(SUPPRESSION_THRESHOLD), "mart_indicators")
        return out
    finally:
        con.close()


def _scanned_text(text: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (table, column)s of ``text`` the values suite scans: operational text, not our own wording nor
    pseudonyms (their own suite), nor a column declared to reference a scanned one (a child's ``event_uid``
    holds ``fact_events.event_uid`` values, which the integrity suite checks in the same run).

    Each is scanned by its distinct values, each counted: the same row counts, with one pattern match
    per value instead of per row (codes repeat; 40% less time on a 2M-event file)."""
    kept = [(t, c) for t, c in text if c not in DESCRIPTIVE_COLUMNS and c not in PSEUDONYM_COLUMNS
            and c != "pseudonym"]
    references = {(t, c): (ref_table, ref_col) for t, spec in constraints.declared().items()
                  for c, ref_table, ref_col in constraints.references(spec)}
    scanned = set(kept)
    return [(t, c) for t, c in kept if references.get((t, c)) not in scanned]


def _rule_counts(con: duckdb.DuckDBPyConnection, rules: dict[str, str], table: str) -> tuple[Any, list, bool]:
    """One row: for each rule, how many rows of ``table`` break it (a filter, or a ``(SELECT ...)`` count).

    The counting is DuckDB's, over the whole table; Great Expectations judges one small row (every rule
    must count 0), so the gate's memory does not grow with the warehouse."""
    parts = [f'{sql} AS "{name}"' if sql.lstrip().upper().startswith("(SELECT") else
             f'count(*) FILTER (WHERE {sql}) AS "{name}"' for name, sql in rules.items()]
    source = f'FROM "{table}"' if table in {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()")
                                                 .fetchall()} else ""
    frame = con.execute(f"SELECT {', '.join(parts)} {source}").df()
    return frame, suites.rule_suite(list(rules)), True


def _consistency_frame(files: dict[str, Path]) -> Any:
    """Per fiscal year, the evaluator's total of events against the events of the two national files.

    The evaluator aggregates exactly what Canada's and the US's files may see together (REL_IBET,
    REL_CAN, REL_USA), never more: counted independently here, from the other candidate files, so a
    wrong audience setting (ORCON, say, in the evaluator's caveats) cannot vouch for itself.
    """
    con = duck.connect()
    try:
        for a in ("evaluator", "can", "usa"):
            con.execute(f"ATTACH {sql_literal(str(files[a]))} AS {a} (READ_ONLY)")
        return con.execute("""
            WITH shared AS (
                SELECT event_uid, fiscal_year_can AS fy FROM can.fact_events
                UNION SELECT event_uid, fiscal_year_can FROM usa.fact_events)
            SELECT s.fy AS fiscal_year, count(*) AS shared_events, any_value(e.value) AS evaluator_events
            FROM shared AS s LEFT JOIN evaluator.mart_indicators AS e
              ON e.calendar = 'CAN' AND e.fiscal_year = s.fy AND e.period = 'year' AND e.indicator = 'events_reported'
             AND e.agency_code = 'ALL' AND e.region_code = 'ALL' AND e.detail = ''
            GROUP BY s.fy ORDER BY s.fy""").df()
    finally:
        con.close()


def _lake_frames(settings: Settings) -> dict[str, tuple[Any, list, bool]]:
    """Reconciliation of the staged lake with the ingest manifests, and freshness per agency."""
    import pandas as pd

    from warehouse.staging import PARTITION_COLUMN, staging_path

    con = duck.connect(str(staging_path(settings)), read_only=True)
    try:
        parts = []
        for table, pcol in PARTITION_COLUMN.items():
            parts.append(f"SELECT '{table}' AS table_name, agency, CAST({pcol} AS VARCHAR) AS part_key, "
                         f"count(*) AS lake_rows FROM stg_{table} GROUP BY ALL")
        lake = con.execute(" UNION ALL ".join(parts)).df()
        # the manifests as staged in the same snapshot as the partitions (refresh holds the lake lock)
        staged = con.execute("SELECT agency, partition, tables FROM stg_manifest").fetchall()
        per_day = con.execute("SELECT agency, extract_date, count(*) AS n FROM stg_events GROUP BY ALL "
                              "ORDER BY agency, extract_date").fetchall()
    finally:
        con.close()
    manifests = []
    for agency, partition, tables in staged:
        pcol, key = partition.split("=", 1)
        for table, n in json.loads(tables or "{}").items():
            manifests.append({"table_name": table, "agency": agency, "part_key": key, "manifest_rows": n})
        if pcol == "extract_date":
            manifests.append({"table_name": "_extract", "agency": agency, "part_key": key, "manifest_rows": None})
    mf = pd.DataFrame(manifests, columns=["table_name", "agency", "part_key", "manifest_rows"])
    real = mf[mf.table_name != "_extract"]
    rec = lake.merge(real, how="outer", on=["table_name", "agency", "part_key"])
    rec["lake_rows"] = rec["lake_rows"].fillna(0).astype("int64")  # a table a file had no rows of
    extracts = mf[mf.table_name == "_extract"]
    fresh = pd.DataFrame(columns=["agency", "lag_days"])
    if len(extracts):
        latest = extracts.groupby("agency").part_key.max()
        newest = max(latest)
        fresh = pd.DataFrame({"agency": latest.index,
                              "lag_days": [(dt.date.fromisoformat(newest) - dt.date.fromisoformat(d)).days
                                           for d in latest]})
    opts = settings.options
    volume, trend = _volume_frames(settings, per_day)
    return {"reconciliation": (rec, suites.reconciliation_suite(), True),
            "volume": (volume, suites.volume_suite(), True),
            "volume_trend": (trend, suites.volume_trend_suite(opts.volume_low, opts.volume_high), False),
            "freshness": (fresh, suites.freshness_suite(opts.freshness_lag_days), False)}


#: Extracts of an agency's recent history that its newest extract is compared with.
VOLUME_HISTORY = 14


def _volume_frames(settings: Settings, per_day: list[tuple[str, Any, int]]) -> tuple[Any, Any]:
    """Two frames: events staged per agency that had events in the last published build (an agency
    that vanished, or an empty lake, blocks); the newest extract's rows against the median of the
    agency's previous ``VOLUME_HISTORY`` extracts (a warning: a quiet day happens)."""
    import statistics

    import pandas as pd

    from foundation.lake import read_json
    from foundation.registry import PARTNERS

    totals: dict[str, int] = {}
    days: dict[str, list[int]] = {}
    for agency, _day, n in per_day:
        totals[agency] = totals.get(agency, 0) + n
        days.setdefault(agency, []).append(n)
    published = (read_json(settings.warehouse / ".build" / "published.json") or {}).get("agency_events") or {}
    expected = sorted({a for a, n in published.items() if n} | {a for a in totals if a in PARTNERS})
    volume = pd.DataFrame({"agency": expected or ["(none)"],
                           "staged_events": [totals.get(a, 0) for a in expected] or [0]})
    rows = []
    for agency, counts in sorted(days.items()):
        history = counts[-VOLUME_HISTORY - 1:-1]
        median = statistics.median(history) if len(history) >= 3 else None
        rows.append({"agency": agency, "newest_extract_events": counts[-1], "recent_median": median,
                     "ratio": (counts[-1] / median) if median else None})
    trend = pd.DataFrame(rows, columns=["agency", "newest_extract_events", "recent_median", "ratio"])
    return volume, trend

"""CBP northern border events: pipe-delimited, US zone abbreviations, DMS, pounds, MARIJUANA."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl
import pyarrow as pa

from contracts.cbp import CONTRACT, TZ_ABBREVIATIONS
from transforms.canonical import LB_TO_KG
from transforms.common import empty, finalize, source_columns, with_region
from contracts.readers import iter_delimited

def _tz_offset(col: str) -> str:
    cases = " ".join(f"WHEN '{k}' THEN {v}" for k, v in TZ_ABBREVIATIONS.items())
    return f"CASE {col} {cases} END"


def batches(path: Path, batch_bytes: int) -> Iterator[dict[str, pl.DataFrame]]:
    for df in iter_delimited(path, "|", list(CONTRACT.levels["events"].columns), batch_bytes):
        yield {"events": df}


def canonical(con: duckdb.DuckDBPyConnection, ctx: dict[str, str]) -> dict[str, pa.Table]:
    base = with_region(f"""
        SELECT *, event_no AS source_id,
          timezone('UTC', event_date - to_hours({_tz_offset('tz')})) AS occurred_at,
          lat_dms AS latitude, lon_dms AS longitude,
          station AS reporting_unit, NULL::VARCHAR AS reported_region,
          coalesce(persons_apprehended, 0) AS n_persons, drug_lbs AS lbs, currency_usd AS usd,
          firearms_count AS guns
        FROM p_events""", "cbp", unit_cols=("reporting_unit", "sector"))
    con.execute(f"CREATE OR REPLACE TEMP VIEW ev AS {base}")
    events = finalize(con, "events", f"""
        SELECT 'cbp:' || source_id AS event_uid, source_id, occurred_at, CAST(occurred_at AS DATE) AS event_date,
          region_code, region_source, latitude, longitude, in_ibet_area,
          CASE WHEN event_type = 'GOTAWAY' THEN 'ILLEGAL_ENTRY'
               WHEN drug_type IS NOT NULL THEN 'DRUGS'
               WHEN coalesce(guns, 0) > 0 THEN 'FIREARMS'
               WHEN coalesce(usd, 0) > 0 THEN 'CURRENCY'
               WHEN n_persons >= 3 THEN 'HUMAN_SMUGGLING'
               ELSE 'ILLEGAL_ENTRY' END AS category,
          CASE event_type WHEN 'BOTH' THEN 'APPREHENSION' ELSE event_type END AS action,
          event_type <> 'GOTAWAY' AS is_interdiction, NULL AS intel_led, NULL AS joint_operation_id,
          FALSE AS is_joint, reporting_unit, n_persons AS persons_count,
          CASE WHEN event_type IN ('APPREHENSION', 'BOTH') THEN n_persons ELSE 0 END AS arrests,
          NULL AS status, release AS caveat, {source_columns(ctx)}, _row AS source_row, _pos
        FROM ev""", "_pos")
    subjects = finalize(con, "subjects", """
        SELECT 'cbp:' || source_id AS event_uid, 1 AS subject_seq, 'SUBJECT' AS role,
          person_key, document_key, CASE WHEN has_passport_no THEN 'PASSPORT' END AS document_type,
          passport_country AS document_issuer, anumber_key,
          birth_year, NULL AS sex, nationality, release AS caveat, name_mixed_script, _pos
        FROM ev WHERE event_type <> 'GOTAWAY'
          AND (has_subject_name OR has_dob OR has_a_number OR has_passport_no)""",
        "_pos")
    seizures = finalize(con, "seizures", f"""
        SELECT * FROM (
          SELECT 'cbp:' || source_id AS event_uid, 1 AS seizure_seq,
            CASE drug_type WHEN 'MARIJUANA' THEN 'CANNABIS' ELSE drug_type END AS commodity, 'DRUGS' AS category,
            lbs * {LB_TO_KG} AS quantity_kg, NULL AS quantity_units, NULL AS value, 'USD' AS currency,
            release AS caveat, _pos
          FROM ev WHERE drug_type IS NOT NULL
          UNION ALL
          SELECT 'cbp:' || source_id, 2, 'CURRENCY', 'CURRENCY', NULL, NULL, usd, 'USD', release, _pos
          FROM ev WHERE coalesce(usd, 0) > 0
          UNION ALL
          SELECT 'cbp:' || source_id, 3, 'FIREARMS', 'FIREARMS', NULL, guns, NULL, 'USD', release, _pos
          FROM ev WHERE coalesce(guns, 0) > 0)""", "_pos, seizure_seq")
    conveyances = empty(con, "conveyances")  # CBP reports no conveyance
    return {"events": events, "subjects": subjects, "seizures": seizures, "conveyances": conveyances}

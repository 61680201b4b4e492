"""RCMP occurrences: CSV with BOM and CRLF, local wall time + IANA zone, decimal degrees."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl
import pyarrow as pa

from contracts.rcmp import CONTRACT
from transforms.common import commodity_category, finalize, source_columns, with_region
from contracts.readers import iter_delimited


def batches(path: Path, batch_bytes: int) -> Iterator[dict[str, pl.DataFrame]]:
    for df in iter_delimited(path, ",", list(CONTRACT.levels["occurrences"].columns), batch_bytes):
        yield {"occurrences": df}


def canonical(con: duckdb.DuckDBPyConnection, ctx: dict[str, str]) -> dict[str, pa.Table]:
    base = with_region("""
        SELECT *, occurrence_id AS source_id,
          timezone(detachment_tz, reported_local) AS occurred_at,
          detachment AS reporting_unit, NULL::VARCHAR AS reported_region,
          (has_subject_surname OR has_subject_dob) AS has_subject
        FROM p_occurrences""", "rcmp")
    con.execute(f"CREATE OR REPLACE TEMP VIEW occ AS {base}")
    events = finalize(con, "events", f"""
        SELECT 'rcmp:' || source_id AS event_uid, source_id, occurred_at, CAST(occurred_at AS DATE) AS event_date,
          region_code, region_source, latitude, longitude, in_ibet_area,
          CASE occurrence_type WHEN 'DRUG' THEN 'DRUGS' WHEN 'FIREARM' THEN 'FIREARMS' ELSE occurrence_type END
            AS category,
          CASE WHEN seizure_commodity IS NOT NULL THEN 'SEIZURE' WHEN has_subject THEN 'ARREST'
               ELSE 'OCCURRENCE' END AS action,
          (seizure_commodity IS NOT NULL OR has_subject) AS is_interdiction,
          intel_led = 'Y' AS intel_led, joint_operation_id, joint_operation_id IS NOT NULL AS is_joint,
          reporting_unit, CAST(has_subject AS INTEGER) AS persons_count, CAST(has_subject AS INTEGER) AS arrests,
          NULL AS status, caveat, {source_columns(ctx)}, _row AS source_row, _pos
        FROM occ""", "_pos")
    subjects = finalize(con, "subjects", """
        SELECT 'rcmp:' || source_id AS event_uid, 1 AS subject_seq, 'SUBJECT' AS role,
          person_key,
          NULL AS document_key, NULL AS document_type, NULL AS document_issuer, NULL AS anumber_key,
          birth_year, subject_gender AS sex,
          subject_citizenship AS nationality, caveat,
          name_mixed_script, _pos
        FROM occ WHERE has_subject""", "_pos")
    seizures = finalize(con, "seizures", f"""
        SELECT 'rcmp:' || source_id AS event_uid, 1 AS seizure_seq, seizure_commodity AS commodity,
          {commodity_category('seizure_commodity')} AS category,
          CASE seizure_unit WHEN 'kg' THEN q WHEN 'g' THEN q / 1000 END AS quantity_kg,
          CASE WHEN seizure_unit = 'units' THEN q END AS quantity_units,
          CASE WHEN seizure_unit = 'CAD' THEN coalesce(v, q) ELSE v END AS value, 'CAD' AS currency, caveat, _pos
        FROM (SELECT *, seizure_quantity AS q, seizure_value_cad AS v FROM occ)
        WHERE seizure_commodity IS NOT NULL""", "_pos")
    conveyances = finalize(con, "conveyances", """
        SELECT 'rcmp:' || source_id AS event_uid, 'ROAD' AS mode,
          plate_key, plate_jurisdiction,
          NULL AS vessel_key, NULL AS vessel_name, NULL AS vessel_mmsi, NULL AS vessel_flag, NULL AS vessel_type,
          caveat, _pos
        FROM occ WHERE has_licence_plate""", "_pos")
    return {"events": events, "subjects": subjects, "seizures": seizures, "conveyances": conveyances}

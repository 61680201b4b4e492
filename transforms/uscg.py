"""USCG maritime interdictions: XML, DTG times (Zulu), degrees and decimal minutes, hull ids."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl
import pyarrow as pa

from transforms.common import commodity_category, finalize, source_columns, with_region
from contracts.readers import iter_xml_records

FIELDS = {
    "id": "@id", "dtg": "DTG", "district": "District", "lat": "Position/@lat", "lon": "Position/@lon",
    "vessel_name": "Vessel/@name", "vessel_hin": "Vessel/@hin", "vessel_mmsi": "Vessel/@mmsi",
    "vessel_flag": "Vessel/@flag", "vessel_type": "Vessel/@type", "master_name": "Master/@name",
    "master_dob": "Master/@dob", "master_nationality": "Master/@nationality", "persons_aboard": "PersonsAboard",
    "outcome": "Outcome", "shiprider": "ShipRider", "narrative": "Narrative", "caveat": "Caveat",
}
SEIZURE_FIELDS = {"commodity": "@commodity", "kg": "@kg", "value_usd": "@value_usd"}


def batches(path: Path, batch_bytes: int) -> Iterator[dict[str, pl.DataFrame]]:
    # a parsed XML tree takes several times its text: chunks of half a batch keep a batch's memory in line
    # with the other formats'
    for recs, kids in iter_xml_records(path, "InterdictionReport", "Interdiction", FIELDS, "Seizure", SEIZURE_FIELDS,
                                       chunk_bytes=max(1, batch_bytes // 2)):
        assert kids is not None
        yield {"interdictions": recs, "seizures": kids}


def canonical(con: duckdb.DuckDBPyConnection, ctx: dict[str, str]) -> dict[str, pa.Table]:
    base = with_region("""
        SELECT i.*, i.id AS source_id, i.dtg AS occurred_ts, i.lat AS latitude, i.lon AS longitude,
          i.district AS reporting_unit, NULL::VARCHAR AS reported_region, s.first_commodity,
          coalesce(i.persons_aboard, 0) AS n_aboard
        FROM p_interdictions i
        LEFT JOIN (SELECT _parent, arg_min(commodity, _row) AS first_commodity FROM p_seizures GROUP BY _parent) s
          ON s._parent = i._pos""", "uscg")
    con.execute(f"CREATE OR REPLACE TEMP VIEW it AS {base}")
    events = finalize(con, "events", f"""
        SELECT 'uscg:' || source_id AS event_uid, source_id, occurred_ts AS occurred_at,
          CAST(occurred_ts AS DATE) AS event_date, region_code, region_source, latitude, longitude, in_ibet_area,
          CASE WHEN first_commodity IS NOT NULL THEN {commodity_category('first_commodity')}
               WHEN outcome = 'ARREST' THEN 'ILLEGAL_ENTRY' ELSE 'OTHER' END AS category,
          outcome AS action, outcome IN ('SEIZURE', 'ARREST') AS is_interdiction, NULL AS intel_led,
          NULL AS joint_operation_id, coalesce(shiprider, FALSE) AS is_joint, reporting_unit,
          n_aboard AS persons_count, CASE WHEN outcome = 'ARREST' THEN n_aboard ELSE 0 END AS arrests,
          NULL AS status, caveat, {source_columns(ctx)}, _row AS source_row, _pos
        FROM it""", "_pos")
    subjects = finalize(con, "subjects", """
        SELECT 'uscg:' || id AS event_uid, 1 AS subject_seq, 'MASTER' AS role,
          person_key, NULL AS document_key, NULL AS document_type, NULL AS document_issuer, NULL AS anumber_key,
          birth_year, NULL AS sex, master_nationality AS nationality, caveat, name_mixed_script, _pos
        FROM p_interdictions WHERE has_master_name OR has_master_dob""", "_pos")
    seizures = finalize(con, "seizures", f"""
        SELECT 'uscg:' || i.id AS event_uid, s._row AS seizure_seq, s.commodity,
          {commodity_category('s.commodity')} AS category, s.kg AS quantity_kg,
          NULL AS quantity_units, s.value_usd AS value, 'USD' AS currency, i.caveat, i._pos, s._row
        FROM p_seizures s JOIN p_interdictions i ON s._parent = i._pos""", "_pos, _row")
    conveyances = finalize(con, "conveyances", """
        SELECT 'uscg:' || id AS event_uid, 'MARINE' AS mode, NULL AS plate_key, NULL AS plate_jurisdiction,
          vessel_key, vessel_name, vessel_mmsi, vessel_flag,
          vessel_type, caveat, _pos
        FROM p_interdictions
        WHERE has_vessel_hin OR vessel_name IS NOT NULL OR vessel_mmsi IS NOT NULL""", "_pos")
    return {"events": events, "subjects": subjects, "seizures": seizures, "conveyances": conveyances}

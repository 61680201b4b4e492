"""CBSA enforcement events: nested JSON Lines -> events, persons, goods; ISO times with offsets."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl
import pyarrow as pa

from transforms.common import commodity_category, finalize, source_columns, with_region
from contracts.readers import MALFORMED, RejectedFile, explode_children, iter_ndjson

S, F, B = pl.Utf8, pl.Float64, pl.Boolean
JSON_SCHEMA = {
    "event_ref": S, "occurred_at": S, "office_code": S, "between_ports": B, "action": S,
    "location": pl.Struct({"lat": F, "lon": F}),
    "persons": pl.List(pl.Struct({
        "family_name": S, "given_name": S, "birth_date": S, "sex": S, "nationality": S,
        "travel_doc": pl.Struct({"type": S, "number": S, "issuer": S})})),
    "goods": pl.List(pl.Struct({"commodity": S, "quantity": F, "uom": S, "value_cad": F})),
    "conveyance": pl.Struct({"mode": S, "plate": S}),
    "officer_notes": S, "caveat": S,
}
REQUIRED_KEYS = ("event_ref", "occurred_at", "action", "caveat")


def batches(path: Path, batch_bytes: int) -> Iterator[dict[str, pl.DataFrame]]:
    """The file in batches of whole lines; a required key absent from every record of the file rejects it
    (found once every batch is read, like ``iter_ndjson``'s own whole-file checks)."""
    seen = dict.fromkeys(REQUIRED_KEYS, False)
    records = 0
    for raw, malformed in iter_ndjson(path, JSON_SCHEMA, batch_bytes):
        records += raw.height
        seen = {k: was or raw[k].null_count() < raw.height for k, was in seen.items()}
        yield _levels(raw, malformed)
    absent = [k for k, was in seen.items() if not was]
    if records and absent:
        raise RejectedFile(f"missing required fields in every record: {', '.join(absent)}")


def _levels(raw: pl.DataFrame, malformed: pl.DataFrame) -> dict[str, pl.DataFrame]:
    events = raw.select(
        "_row", "event_ref", "occurred_at", "office_code", "between_ports", "action",
        pl.col("location").struct.field("lat").alias("lat"), pl.col("location").struct.field("lon").alias("lon"),
        pl.col("conveyance").struct.field("mode").alias("conveyance_mode"),
        pl.col("conveyance").struct.field("plate").alias("conveyance_plate"),
        "officer_notes", "caveat",
    )
    persons = explode_children(raw.select("persons"), "persons")
    persons = persons.with_columns(
        pl.col("travel_doc").struct.field("type").alias("doc_type"),
        pl.col("travel_doc").struct.field("number").alias("doc_number"),
        pl.col("travel_doc").struct.field("issuer").alias("doc_issuer"),
    ).drop("travel_doc")
    goods = explode_children(raw.select("goods"), "goods")
    del raw
    return {"events": events, "persons": persons, "goods": goods, MALFORMED: malformed}


def canonical(con: duckdb.DuckDBPyConnection, ctx: dict[str, str]) -> dict[str, pa.Table]:
    base = with_region("""
        SELECT e.*, e.event_ref AS source_id,
          e.occurred_at AS occurred_ts,
          e.lat AS latitude, e.lon AS longitude, e.office_code AS reporting_unit, NULL::VARCHAR AS reported_region,
          g.first_commodity, coalesce(p.n, 0) AS n_persons
        FROM p_events e
        LEFT JOIN (SELECT _parent, arg_min(commodity, _row) AS first_commodity FROM p_goods GROUP BY _parent) g
          ON g._parent = e._pos
        LEFT JOIN (SELECT _parent, count(*) AS n FROM p_persons GROUP BY _parent) p ON p._parent = e._pos""",
        "cbsa")
    con.execute(f"CREATE OR REPLACE TEMP VIEW ev AS {base}")
    events = finalize(con, "events", f"""
        SELECT 'cbsa:' || source_id AS event_uid, source_id, occurred_ts AS occurred_at,
          CAST(occurred_ts AS DATE) AS event_date, region_code, region_source, latitude, longitude, in_ibet_area,
          CASE WHEN first_commodity IS NOT NULL THEN {commodity_category('first_commodity')}
               WHEN action IN ('ARREST', 'REFUSAL') THEN 'ILLEGAL_ENTRY' ELSE 'OTHER' END AS category,
          action, action IN ('SEIZURE', 'ARREST') AS is_interdiction, NULL AS intel_led,
          NULL AS joint_operation_id, FALSE AS is_joint, reporting_unit, n_persons AS persons_count,
          CASE WHEN action = 'ARREST' THEN n_persons ELSE 0 END AS arrests, NULL AS status, caveat,
          {source_columns(ctx)}, _row AS source_row, _pos
        FROM ev""", "_pos")
    subjects = finalize(con, "subjects", """
        SELECT 'cbsa:' || e.event_ref AS event_uid, p._row AS subject_seq, 'SUBJECT' AS role,
          p.person_key, p.document_key, p.doc_type AS document_type,
          p.doc_issuer AS document_issuer, NULL AS anumber_key, p.birth_year,
          p.sex, p.nationality, e.caveat, p.name_mixed_script, e._pos, p._row
        FROM p_persons p JOIN p_events e ON p._parent = e._pos""", "_pos, _row")
    seizures = finalize(con, "seizures", f"""
        SELECT 'cbsa:' || e.event_ref AS event_uid, g._row AS seizure_seq, g.commodity,
          {commodity_category('g.commodity')} AS category,
          CASE g.uom WHEN 'KGM' THEN g.quantity WHEN 'GRM' THEN g.quantity / 1000 END AS quantity_kg,
          CASE WHEN g.uom = 'NMB' THEN g.quantity END AS quantity_units, g.value_cad AS value, 'CAD' AS currency,
          e.caveat, e._pos, g._row
        FROM p_goods g JOIN p_events e ON g._parent = e._pos""", "_pos, _row")
    conveyances = finalize(con, "conveyances", """
        SELECT 'cbsa:' || event_ref AS event_uid, conveyance_mode AS mode,
          plate_key, NULL AS plate_jurisdiction,
          NULL AS vessel_key, NULL AS vessel_name, NULL AS vessel_mmsi, NULL AS vessel_flag, NULL AS vessel_type,
          caveat, _pos
        FROM p_events WHERE conveyance_mode IS NOT NULL OR has_conveyance_plate""", "_pos")
    return {"events": events, "subjects": subjects, "seizures": seizures, "conveyances": conveyances}

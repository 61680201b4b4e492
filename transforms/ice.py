"""ICE HSI case updates: Parquet with list columns; one event per case touched that day."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.common import empty, finalize, source_columns, with_region
from contracts.readers import ROW, RejectedFile, explode_children, safe_parser_message

CASE_TYPES = {
    "case_number": pl.Utf8, "opened_on": pl.Date, "updated_at": pl.Datetime("us", "UTC"), "category": pl.Utf8,
    "status": pl.Utf8, "best_team": pl.Boolean, "ibet_region": pl.Utf8, "arrests": pl.Int64,
    "seized_usd": pl.Float64, "summary": pl.Utf8, "caveat": pl.Utf8,
}
SUBJECT_TYPES = {"name": pl.Utf8, "dob": pl.Date, "passport_no": pl.Utf8, "nationality": pl.Utf8}


#: bytes of input a case row stands for, to size a batch of rows like the text formats' batches
ROW_BYTES = 160


def batches(path: Path, batch_bytes: int) -> Iterator[dict[str, pl.DataFrame]]:
    """The cases in batches of rows (Parquet's own streaming reader), each with its subjects."""
    required = [*CASE_TYPES, "subjects", "partner_agencies"]
    try:
        # read page by page: by default a whole column chunk of a row group is held (a million rows of the
        # generator's files, 230 MB of a 5M-record file), whatever the batch size
        pf = pq.ParquetFile(path, buffer_size=1 << 20, pre_buffer=False)
        missing = [c for c in required if c not in pf.schema_arrow.names]
        if missing:
            raise RejectedFile(f"missing required columns: {', '.join(missing)}")
        first = 1
        for batch in pf.iter_batches(batch_size=max(1, int(batch_bytes) // ROW_BYTES), columns=required):
            levels = _levels(batch, first)
            first += batch.num_rows
            yield levels
        if first == 1:
            yield _levels(pf.schema_arrow.empty_table().select(required), 1)
    except (pa.ArrowInvalid, OSError) as exc:
        raise RejectedFile(f"unreadable as Parquet: {safe_parser_message(exc)}") from None


def _levels(batch: pa.RecordBatch | pa.Table, first: int) -> dict[str, pl.DataFrame]:
    df = pl.from_arrow(batch)
    assert isinstance(df, pl.DataFrame)
    try:
        if df.schema["updated_at"] == pl.Datetime or getattr(df.schema["updated_at"], "time_zone", None) is None:
            df = df.with_columns(pl.col("updated_at").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))
        cases = df.select(
            *[pl.col(c).cast(t, strict=True) for c, t in CASE_TYPES.items()],
            pl.col("partner_agencies").cast(pl.List(pl.Utf8)).list.join(",").alias("partner_agencies"),
        )
        subjects = explode_children(df.select("subjects"), "subjects")
        subjects = subjects.select(ROW, "_parent", *[pl.col(c).cast(t, strict=True) for c, t in SUBJECT_TYPES.items()])
    except Exception as exc:  # a column of the wrong type for the whole file
        raise RejectedFile(f"columns of the wrong type: {safe_parser_message(exc)}") from None
    cases = cases.with_row_index(ROW, offset=first).with_columns(pl.col(ROW).cast(pl.Int64))
    return {"cases": cases, "subjects": subjects}


def canonical(con: duckdb.DuckDBPyConnection, ctx: dict[str, str]) -> dict[str, pa.Table]:
    base = with_region("""
        SELECT c.*, c.case_number AS source_id, NULL::DOUBLE AS latitude, NULL::DOUBLE AS longitude,
          NULL::VARCHAR AS reporting_unit, c.ibet_region AS reported_region, coalesce(s.n, 0) AS n_subjects
        FROM p_cases c LEFT JOIN (SELECT _parent, count(*) AS n FROM p_subjects GROUP BY _parent) s
          ON s._parent = c._pos""", "ice")
    con.execute(f"CREATE OR REPLACE TEMP VIEW cs AS {base}")
    events = finalize(con, "events", f"""
        SELECT 'ice:' || source_id AS event_uid, source_id, updated_at AS occurred_at,
          CAST(updated_at AS DATE) AS event_date, region_code, region_source, latitude, longitude, in_ibet_area,
          CASE category WHEN 'NARCOTICS' THEN 'DRUGS' WHEN 'WEAPONS' THEN 'FIREARMS' WHEN 'FINANCIAL' THEN 'CURRENCY'
               ELSE category END AS category,
          'INVESTIGATION' AS action, (status = 'CLOSED_ARREST' OR coalesce(arrests, 0) > 0) AS is_interdiction,
          NULL AS intel_led, NULL AS joint_operation_id,
          (coalesce(best_team, FALSE) OR coalesce(partner_agencies, '') <> '') AS is_joint, reporting_unit,
          n_subjects AS persons_count, coalesce(arrests, 0) AS arrests, status, caveat,
          {source_columns(ctx)}, _row AS source_row, _pos
        FROM cs""", "_pos")
    subjects = finalize(con, "subjects", """
        SELECT 'ice:' || c.case_number AS event_uid, s._row AS subject_seq, 'SUBJECT' AS role,
          s.person_key, s.document_key,  -- ICE names no issuer: the contract keys the passport by nationality
          CASE WHEN s.has_passport_no THEN 'PASSPORT' END AS document_type, NULL AS document_issuer,
          NULL AS anumber_key, s.birth_year, NULL AS sex, s.nationality, c.caveat,
          s.name_mixed_script, c._pos, s._row
        FROM p_subjects s JOIN p_cases c ON s._parent = c._pos""", "_pos, _row")
    seizures = finalize(con, "seizures", """
        SELECT 'ice:' || case_number AS event_uid, 1 AS seizure_seq,
          CASE WHEN category = 'FINANCIAL' THEN 'CURRENCY' ELSE 'UNSPECIFIED' END AS commodity,
          CASE category WHEN 'NARCOTICS' THEN 'DRUGS' WHEN 'WEAPONS' THEN 'FIREARMS' WHEN 'FINANCIAL' THEN 'CURRENCY'
               ELSE category END AS category,
          NULL AS quantity_kg, NULL AS quantity_units, seized_usd AS value, 'USD' AS currency, caveat, _pos
        FROM p_cases WHERE coalesce(seized_usd, 0) > 0""", "_pos")
    return {"events": events, "subjects": subjects, "seizures": seizures, "conveyances": empty(con, "conveyances")}

"""Program-level CSV files (finance, outreach, radio tests) into their canonical tables."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl
import pyarrow as pa

from transforms.common import finalize, source_columns
from contracts.readers import iter_delimited


def reader(contract_columns: list[str]):  # noqa: ANN201 - returns the source's batches()
    def batches(path: Path, batch_bytes: int) -> Iterator[dict[str, pl.DataFrame]]:
        for df in iter_delimited(path, ",", contract_columns, batch_bytes):
            yield {"rows": df}

    return batches


def finance(con: duckdb.DuckDBPyConnection, ctx: dict[str, str]) -> dict[str, pa.Table]:
    return {"finance": finalize(con, "finance", f"""
        SELECT agency AS agency_code, planned_spending, actual_spending, currency, note, {source_columns(ctx)}, _pos
        FROM p_rows""", "_pos")}


def outreach(con: duckdb.DuckDBPyConnection, ctx: dict[str, str]) -> dict[str, pa.Table]:
    return {"outreach": finalize(con, "outreach", f"""
        SELECT event_id, event_date, region_code, program, attendees, tips_received,
          {source_columns(ctx)}, _pos
        FROM p_rows""", "_pos")}


def radio_tests(con: duckdb.DuckDBPyConnection, ctx: dict[str, str]) -> dict[str, pa.Table]:
    return {"radio_tests": finalize(con, "radio_tests", f"""
        SELECT test_id, test_date, region_code, agencies,
          len(string_split(replace(agencies, ',', ';'), ';')) AS agency_count,
          (regexp_matches(agencies, 'rcmp|cbsa') AND regexp_matches(agencies, 'cbp|ice|uscg')) AS cross_border,
          success, {source_columns(ctx)}, _pos
        FROM p_rows""", "_pos")}

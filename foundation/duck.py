"""DuckDB connections for batch work: no progress bar.

DuckDB draws a progress bar on stdout for any query over two seconds, terminal or not: in a
task log, a CLI's JSON output or a benchmark's report it is noise, dozens of lines of bars per
build. Batch code connects here; analysts' own sessions (``access.py``) keep DuckDB's default.
"""
from __future__ import annotations

import duckdb


def connect(database: str = ":memory:", read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect`` with the progress bar off (a per-connection setting: not settable at connect)."""
    con = duckdb.connect(database, read_only=read_only)
    con.execute("SET enable_progress_bar = false")
    return con

"""Read-only access to the published audience files (what analysts and evaluators query)."""
from __future__ import annotations

from typing import Any

import duckdb

from ibet.settings import AUDIENCES, Settings
from warehouse.build import published_path


class NotPublishedError(FileNotFoundError):
    """The audience file has not been built and published yet."""


def connect(settings: Settings, audience: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to one published file, with file-system access disabled.

    Read-only because analysts query, they do not write; no file-system access so a
    query cannot ATTACH the staged lake (which holds every caveat) or read raw files.
    """
    if audience not in AUDIENCES:
        raise KeyError(f"unknown audience {audience!r}; known: {', '.join(AUDIENCES)}")
    path = published_path(settings, audience)
    if not path.exists():
        raise NotPublishedError(f"{path} is not published yet: run `ibet build` first")
    return duckdb.connect(str(path), read_only=True, config={"enable_external_access": False})


def query(settings: Settings, audience: str, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``sql`` against the audience's published file; (columns, rows)."""
    con = connect(settings, audience)
    try:
        rel = con.sql(sql)
        if rel is None:
            return [], []
        return list(rel.columns), rel.fetchall()
    finally:
        con.close()

"""Read-only access to the published audience files (what analysts and evaluators query)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from foundation import audit
from foundation.settings import AUDIENCES, Settings
from warehouse.publish import current_build_id, published_path

#: Table-name prefix -> layer, as analysts see it in `ibet tables` and the data dictionary.
LAYERS = {"dim_": "dimension", "ref_": "reference", "fact_": "fact", "mart_": "mart", "meta_": "metadata"}


class NotPublishedError(FileNotFoundError):
    """The audience file has not been built and published yet."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    total: int  #: rows the query returns in all (``rows`` may be a prefix)


def layer_of(table: str) -> str:
    return next((layer for prefix, layer in LAYERS.items() if table.startswith(prefix)), "other")


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


def query(settings: Settings, audience: str, sql: str, limit: int | None = None) -> QueryResult:
    """Run ``sql`` against the audience's published file; at most ``limit`` rows, and the total.

    Every run is audited (audience, the statement with its literals masked and its digest, rows
    returned, outcome), whether it succeeds or fails."""
    con = connect(settings, audience)
    outcome = "failed"
    result = QueryResult([], [], 0)
    try:
        result = _run(con, sql, limit)
        outcome = "ok"
        return result
    finally:
        con.close()
        audited_query(settings, "sql", audience, statement=sql, rows=result.total, outcome=outcome)


def tables(settings: Settings, audience: str) -> list[tuple[str, str, int, str]]:
    """(table, layer, rows, description) of every published table, in layer order."""
    con = connect(settings, audience)
    try:
        found = con.execute("SELECT table_name, estimated_size, coalesce(comment, '') FROM duckdb_tables() "
                            "WHERE NOT temporary ORDER BY table_name").fetchall()
    finally:
        con.close()
    order = list(LAYERS.values()) + ["other"]
    return sorted(((t, layer_of(t), n, c) for t, n, c in found), key=lambda r: (order.index(r[1]), r[0]))


def describe(settings: Settings, audience: str, table: str) -> tuple[str, list[tuple[str, str, bool, str, str]]]:
    """The table's description and, per column: name, type, nullable, key (PK / FK target), description."""
    con = connect(settings, audience)
    try:
        row = con.execute("SELECT coalesce(comment, '') FROM duckdb_tables() WHERE table_name = ?",
                          [table]).fetchall()
        if not row:
            known = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
            raise KeyError(f"no table {table!r} in the {audience} file; tables: {', '.join(known)}")
        cols = con.execute("SELECT column_name, data_type, is_nullable, coalesce(comment, '') FROM duckdb_columns() "
                           "WHERE table_name = ? ORDER BY column_index", [table]).fetchall()
        keys = constraint_labels(con, table)
    finally:
        con.close()
    return row[0][0], [(c, t, bool(n), keys.get(c, ""), d) for c, t, n, d in cols]


def constraint_labels(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """column -> ``PK`` and/or ``FK → table.column`` from the file's declared keys: the engine's
    constraints, and ``meta_keys`` for the keys the quality gate checks (marked ``(gate)``)."""
    out: dict[str, list[str]] = {}
    query = ("SELECT constraint_type, constraint_column_names, referenced_table, referenced_column_names, {by} "
             "FROM {source} WHERE table_name = ? AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY') {where}"
             "ORDER BY constraint_type DESC, referenced_table")  # the primary key first, however it was added
    sources = [query.format(by="''", source="duckdb_constraints()", where="")]
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'meta_keys'").fetchall()[0][0]:
        sources.append(query.format(by="' (gate)'", source="meta_keys", where="AND checked_by = 'gate' "))
    for sql in sources:
        for ctype, cols, ref_table, ref_cols, by in con.execute(sql, [table]).fetchall():
            for i, c in enumerate(cols):
                out.setdefault(c, []).append(("PK" if ctype == "PRIMARY KEY" else f"FK → {ref_table}.{ref_cols[i]}")
                                             + by)
    return {c: ", ".join(v) for c, v in out.items()}


def audited_query(settings: Settings, command: str, audience: str, *, statement: str | None = None,
                  rows: int | None = None, outcome: str = "ok", **fields: Any) -> None:
    """One audit entry for a read of a published file (``statement`` masked, never stored as typed)."""
    extra = {"statement": audit.mask_statement(statement), "statement_sha256": audit.statement_digest(statement)} \
        if statement is not None else {}
    audit.record(settings, "query", command=command, audience=audience, build_id=current_build_id(settings),
                 rows=rows, outcome=outcome, **extra, **fields)


def _run(con: duckdb.DuckDBPyConnection, sql: str, limit: int | None) -> QueryResult:
    rel = con.sql(sql)
    if rel is None:
        return QueryResult([], [], 0)
    columns = list(rel.columns)
    if limit is None:
        rows = rel.fetchall()
        return QueryResult(columns, rows, len(rows))
    rows = rel.limit(limit).fetchall()
    if len(rows) < limit:
        return QueryResult(columns, rows, len(rows))
    total = rel.aggregate("count(*)").fetchall()[0][0]
    return QueryResult(columns, rows, total)

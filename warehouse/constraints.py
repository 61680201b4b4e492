"""Declare primary and foreign keys in a built file (``sql/constraints.yml``).

DuckDB declares keys only in ``CREATE TABLE``, and the models are ``CREATE TABLE AS``:
each keyed table is therefore re-created with its keys and its rows copied in, in the
file's order (referenced tables first). DuckDB checks every key while copying, so a
duplicate id or an orphan row fails the build here, naming the table.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import yaml

from warehouse.runner import sql_literal, sql_root


class ConstraintError(RuntimeError):
    """A declared key does not hold in the built data."""


@lru_cache(maxsize=1)
def declared() -> dict[str, dict[str, Any]]:
    """table -> {primary_key: [...], references: {column: "table.column"}}, in apply order."""
    return yaml.safe_load((sql_root() / "constraints.yml").read_text()) or {}


def constraints_file() -> Path:
    return sql_root() / "constraints.yml"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def apply(con: duckdb.DuckDBPyConnection, database: str) -> None:
    """Re-create each declared table of ``database`` with its keys (tables it lacks are skipped)."""
    present = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                                         "AND NOT temporary", [database]).fetchall()}
    for table, spec in declared().items():
        if table not in present:
            continue
        cols = con.execute("SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = ? "
                           "AND table_name = ? ORDER BY column_index", [database, table]).fetchall()
        comment = con.execute("SELECT comment FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
                              [database, table]).fetchall()[0][0]
        parts = [f"{_q(c)} {t}" for c, t, _ in cols]
        if spec.get("primary_key"):
            parts.append(f"PRIMARY KEY ({', '.join(map(_q, spec['primary_key']))})")
        for column, target in (spec.get("references") or {}).items():
            ref_table, ref_col = target.split(".")
            if ref_table in present:
                parts.append(f"FOREIGN KEY ({_q(column)}) REFERENCES {_q(ref_table)} ({_q(ref_col)})")
        # the plain table steps aside and the keyed one takes its name: DuckDB records the names of
        # the tables that reference a key when they are created, and renaming a keyed table breaks that
        plain = f"{table}__plain"
        con.execute(f"ALTER TABLE {_q(database)}.main.{_q(table)} RENAME TO {_q(plain)}")
        con.execute(f"CREATE TABLE {_q(database)}.main.{_q(table)} ({', '.join(parts)})")
        try:
            con.execute(f"INSERT INTO {_q(database)}.main.{_q(table)} SELECT * FROM {_q(database)}.main.{_q(plain)}")
        except duckdb.ConstraintException as exc:
            # the engine's message quotes the offending key: say which kind of key, not the value
            kind = "foreign key (an orphan row)" if "foreign key" in str(exc).lower() else "primary key (a duplicate)"
            raise ConstraintError(f"{table}: its declared {kind} does not hold in the built data") from None
        con.execute(f"DROP TABLE {_q(database)}.main.{_q(plain)}")
        if comment:
            con.execute(f"COMMENT ON TABLE {_q(database)}.main.{_q(table)} IS {sql_literal(comment)}")
        for c, _, text in cols:
            if text:
                con.execute(f"COMMENT ON COLUMN {_q(database)}.main.{_q(table)}.{_q(c)} IS {sql_literal(text)}")

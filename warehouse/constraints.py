"""Each model's declarations (``sql/<layer>/<NN>_<table>.yml``, beside its SQL): keys and expectations.

Like a dbt ``schema.yml``: ``primary_key``, ``references`` (foreign keys), ``not_null`` and
``accepted_values``, and ``keys_checked_by``: ``engine`` (the default: DuckDB holds the keys) or
``gate`` (the event facts: the quality gate checks their keys on every build and blocks publication,
DuckDB holds none). An engine key is an index filled and checked row by row: on the event facts
(millions of rows) their keys took 4x the time to fill them and nearly tripled the file
(benchmarks/RESULTS.md, 2026-12-08), for a guarantee the gate gives before any file is published.
Every file lists its keys, however checked, in ``meta_keys`` (``keys_sql``, shaped like
``duckdb_constraints()``), which ``ibet describe`` reads.

The engine's keys are declared in every built file: DuckDB declares keys only in ``CREATE TABLE``
and the models are written ``CREATE TABLE AS``, so ``run_models`` creates each keyed model with its
keys from its query's columns and fills it once, in the models' order (referenced tables first);
``apply`` keys the tables copied in without them (the evaluator file's). DuckDB checks every such key
as the rows go in, so a duplicate id or an orphan row fails the build, naming the table and the kind
of key, never the value. The quality gate turns every declaration into checks (``checks_sql``): one
source for the model's contract, the engine's keys and the gate's expectations.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import duckdb
import yaml

from foundation.sqltext import identifier as _q
from foundation.sqltext import literal as sql_literal
from warehouse.runner import AUDIENCE_LAYERS, run_files, sql_files


class ConstraintError(RuntimeError):
    """A declared key does not hold in the built data."""


def model_name(path: Path) -> str:
    """The table a model's file defines, by the layers' naming (``<NN>_<table>.sql`` / ``.yml``)."""
    return path.stem.split("_", 1)[1]


def declaration_files() -> list[Path]:
    """The models' declaration files, in the models' order."""
    return [f.with_suffix(".yml") for f in sql_files(AUDIENCE_LAYERS) if f.with_suffix(".yml").is_file()]


@lru_cache(maxsize=1)
def declared() -> dict[str, dict[str, Any]]:
    """table -> {primary_key, references: {column: "table.column"}, not_null, accepted_values}, in model order."""
    return {model_name(f): yaml.safe_load(f.read_text()) or {} for f in declaration_files()}


def references(spec: dict[str, Any], present: set[str] | None = None) -> list[tuple[str, str, str]]:
    """A model's declared references as (column, referenced table, referenced column), those whose
    table is in ``present`` when given (a file holds only some of the models)."""
    out = []
    for column, target in (spec.get("references") or {}).items():
        ref_table, ref_col = target.split(".")
        if present is None or ref_table in present:
            out.append((column, ref_table, ref_col))
    return out


def checks_sql(present: set[str]) -> str:
    """One row per declared rule of the tables ``present``: (model, rule, failures). Zero failures each."""
    parts = []
    for table, spec in declared().items():
        if table not in present:
            continue
        t = _q(table)
        key = spec.get("primary_key") or []
        if key:
            cols = ", ".join(map(_q, key))
            parts.append(f"SELECT {sql_literal(table)}, {sql_literal('unique ' + ', '.join(key))}, "
                         f"(SELECT count(*) FROM (SELECT {cols} FROM {t} GROUP BY ALL HAVING count(*) > 1))")
        for column in spec.get("not_null") or []:
            parts.append(f"SELECT {sql_literal(table)}, {sql_literal('not null ' + column)}, "
                         f"count(*) FILTER (WHERE {_q(column)} IS NULL) FROM {t}")
        for column, values in (spec.get("accepted_values") or {}).items():
            allowed = ", ".join(sql_literal(str(v)) for v in values)
            parts.append(f"SELECT {sql_literal(table)}, {sql_literal('accepted values ' + column)}, "
                         f"count(*) FILTER (WHERE {_q(column)} NOT IN ({allowed})) FROM {t}")
        for column, ref_table, ref_col in references(spec, present):
            parts.append(f"SELECT {sql_literal(table)}, {sql_literal(f'{column} -> {ref_table}.{ref_col}')}, "
                         f"count(*) FILTER (WHERE r.{_q(ref_col)} IS NULL AND s.{_q(column)} IS NOT NULL) "
                         f"FROM {t} AS s LEFT JOIN {_q(ref_table)} AS r ON r.{_q(ref_col)} = s.{_q(column)}")
    if not parts:
        return "SELECT NULL::VARCHAR AS model, NULL::VARCHAR AS rule, 0::BIGINT AS failures WHERE FALSE"
    return "SELECT * FROM (" + " UNION ALL ".join(parts) + ") AS t(model, rule, failures)"


#: Who checks a model's keys: DuckDB as rows go in, or the quality gate before publication.
CHECKED_BY = ("engine", "gate")


def keys_checked_by(table: str, spec: dict[str, Any]) -> str:
    """``engine`` or ``gate`` for a model's primary and foreign keys (``keys_checked_by`` in its ``.yml``)."""
    by = spec.get("keys_checked_by", "engine")
    if by not in CHECKED_BY:
        raise ValueError(f"{table}.yml: keys_checked_by is {by!r}, not one of {', '.join(CHECKED_BY)}")
    return by


def keys_sql(present: set[str]) -> str:
    """``meta_keys``' rows for the tables ``present``: each declared primary key, each reference between two
    of them, and who checks it (``engine``: a DuckDB constraint; ``gate``: the quality gate's suites, which
    block publication). Shaped like ``duckdb_constraints()``; BI tools and ``ibet describe`` read it."""
    def names(cols: list[str]) -> str:
        return "[" + ", ".join(sql_literal(c) for c in cols) + "]::VARCHAR[]"

    rows = []
    for table, spec in declared().items():
        if table not in present:
            continue
        by = sql_literal(keys_checked_by(table, spec))
        if spec.get("primary_key"):
            rows.append(f"({sql_literal(table)}, 'PRIMARY KEY', {names(spec['primary_key'])}, NULL, NULL, {by})")
        rows += [f"({sql_literal(table)}, 'FOREIGN KEY', {names([column])}, {sql_literal(ref_table)}, "
                 f"{names([ref_col])}, {by})" for column, ref_table, ref_col in references(spec, present)]
    columns = "table_name, constraint_type, constraint_column_names, referenced_table, referenced_column_names, checked_by"
    if not rows:
        return (f"SELECT * FROM (SELECT NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR[], NULL::VARCHAR, "
                f"NULL::VARCHAR[], NULL::VARCHAR) AS t({columns}) WHERE FALSE")
    return (f"SELECT * FROM (VALUES {', '.join(rows)}) AS t({columns}) "
            "ORDER BY table_name, constraint_type DESC, constraint_column_names, referenced_table")


def write_keys(con: duckdb.DuckDBPyConnection, database: str) -> None:
    """(Re)write ``meta_keys`` in ``database`` from the declarations of the tables it holds."""
    name = f"{_q(database)}.main.meta_keys"
    present = _present(con, database) - {"meta_keys"}
    con.execute(f"CREATE OR REPLACE TABLE {name} AS {keys_sql(present)}")
    con.execute(f"COMMENT ON TABLE {name} IS 'Every primary and foreign key of this file, and who checks it (engine: "
                f"a DuckDB constraint, checked as rows go in; gate: the quality gate, before publication).'")
    for column, text in (("table_name", "The table."), ("constraint_type", "PRIMARY KEY or FOREIGN KEY."),
                         ("constraint_column_names", "The key's columns."),
                         ("referenced_table", "A foreign key: the table it points at."),
                         ("referenced_column_names", "A foreign key: that table's key columns."),
                         ("checked_by", "engine (a DuckDB constraint) or gate (the quality gate's suites: a build "
                                        "with a duplicate key or an orphan row is never published).")):
        con.execute(f"COMMENT ON COLUMN {name}.{_q(column)} IS {sql_literal(text)}")


def engine_keyed() -> dict[str, dict[str, Any]]:
    """The declared models with a key DuckDB holds (``keys_checked_by: engine``, the default)."""
    return {t: s for t, s in declared().items()
            if (s.get("primary_key") or s.get("references")) and keys_checked_by(t, s) == "engine"}


def _present(con: duckdb.DuckDBPyConnection, database: str) -> set[str]:
    return {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                                      "AND NOT temporary", [database]).fetchall()}


def _keyed(con: duckdb.DuckDBPyConnection, database: str) -> set[str]:
    """Tables of ``database`` that already carry a primary or foreign key."""
    return {t for (t,) in con.execute(
        "SELECT DISTINCT table_name FROM duckdb_constraints() WHERE database_name = ? "
        "AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')", [database]).fetchall()}


def _key_clauses(spec: dict[str, Any], present: set[str]) -> list[str]:
    """The key clauses of ``CREATE TABLE`` of a model whose keys the engine checks."""
    parts = []
    if spec.get("primary_key"):
        parts.append(f"PRIMARY KEY ({', '.join(map(_q, spec['primary_key']))})")
    parts += [f"FOREIGN KEY ({_q(column)}) REFERENCES {_q(ref_table)} ({_q(ref_col)})"
              for column, ref_table, ref_col in references(spec, present)]
    return parts


def fill(con: duckdb.DuckDBPyConnection, table: str, sql: str) -> None:
    """Run ``sql`` (an INSERT into a keyed table), naming the kind of key that failed, never the value."""
    try:
        con.execute(sql)
        return
    except duckdb.ConstraintException as exc:
        # the engine's message quotes the offending key: keep only which kind of key it was,
        # and raise outside this block so that the message is not even chained to the error
        kind = "foreign key (an orphan row)" if "foreign key" in str(exc).lower() else "primary key (a duplicate)"
    raise ConstraintError(f"{table}: its declared {kind} does not hold in the built data")


#: A model's defining statement: ``CREATE OR REPLACE TABLE <name> AS <query>``.
_MODEL = re.compile(r"\s*CREATE\s+OR\s+REPLACE\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+AS\s+(.*?)[;\s]*", re.S | re.I)


def model_of(sql: str) -> tuple[str, str] | None:
    """(table, query) when ``sql`` defines a model (``CREATE OR REPLACE TABLE t AS query``), else None."""
    m = _MODEL.fullmatch(sql)
    return (m.group(1), m.group(2)) if m else None


def models(layers: tuple[str, ...]) -> list[tuple[str, str]]:
    """(table, query) of every model of ``layers``, in build order."""
    out = []
    for f in sql_files(layers):
        for statement in duckdb.extract_statements(f.read_text()):
            model = model_of(statement.query)
            if model:
                out.append(model)
    return out


def run_models(con: duckdb.DuckDBPyConnection, files: list[Path], database: str,
               source: Callable[[str, str], str] | None = None,
               refresh: Callable[[str, str], bool] | None = None) -> None:
    """``runner.run_files``, creating each keyed model with its keys and filling it once.

    Declaring keys after a ``CREATE TABLE AS`` (``apply``) costs a second copy of every keyed
    table; a fact table is the bulk of an audience file. Here a declared model's query is
    bound first (``DESCRIBE``: its columns and types, nothing runs), the table is created
    with its foreign keys, the query's rows go in once, checked by DuckDB as they arrive, and
    the primary key is then built from the rows in one pass (a duplicate or a null fails it).
    Other statements run as written. ``apply`` afterwards finds these tables keyed already.

    ``source(table, query)`` may give a model another query of the same columns (an analyst
    file takes its facts from the evaluator's work build: ``shared_facts.py``).
    ``refresh(table, query)`` may bring a model up to date in place instead (an incremental build
    recomputes some marts by key: ``incremental.py``); it returns False when it did not.
    """
    specs = engine_keyed()

    def run(con: duckdb.DuckDBPyConnection, sql: str) -> None:
        model = model_of(sql)
        if model and refresh and refresh(*model):
            return
        if model and source:
            model = (model[0], source(*model))
            sql = f"CREATE OR REPLACE TABLE {_q(model[0])} AS {model[1]}"
        if not model or model[0] not in specs:
            con.execute(sql)
            return
        table, query = model
        spec, name = specs[table], f"{_q(database)}.main.{_q(table)}"
        cols = con.execute(f"DESCRIBE {query}").fetchall()
        # foreign keys go in CREATE TABLE (DuckDB adds no other way); the primary key is added
        # after the rows, built from them at once: 2-3x cheaper than one index insert per row
        body = [f"{_q(c)} {t}" for c, t, *_ in cols] + _key_clauses({**spec, "primary_key": None},
                                                                      _present(con, database))
        con.execute(f"DROP TABLE IF EXISTS {name}")
        con.execute(f"CREATE TABLE {name} ({', '.join(body)})")
        fill(con, table, f"INSERT INTO {name} {query}")
        _add_primary_key(con, table, name, spec)

    run_files(con, files, run)


def apply(con: duckdb.DuckDBPyConnection, database: str) -> None:
    """Give each declared table of ``database`` its keys (tables it lacks are skipped).

    Tables ``run_models`` created keyed are left as they are; this serves the tables copied
    in without keys (the evaluator file's, from its work build).
    """
    present = _present(con, database)
    keyed = _keyed(con, database)
    for table, spec in engine_keyed().items():
        if table not in present or table in keyed:
            continue
        name = f"{_q(database)}.main.{_q(table)}"
        foreign = _key_clauses({**spec, "primary_key": None}, present)
        if foreign:  # foreign keys exist only from CREATE TABLE: the table is re-created with them
            _recreate(con, database, table, foreign)
        _add_primary_key(con, table, name, spec)


def _add_primary_key(con: duckdb.DuckDBPyConnection, table: str, name: str, spec: dict[str, Any]) -> None:
    """Build the declared primary key from the rows already in ``name`` (one pass, not one insert per row)."""
    if spec.get("primary_key"):
        fill(con, table, f"ALTER TABLE {name} ADD PRIMARY KEY ({', '.join(map(_q, spec['primary_key']))})")


def _recreate(con: duckdb.DuckDBPyConnection, database: str, table: str, clauses: list[str]) -> None:
    """Copy ``table`` into a new one declared with ``clauses``, keeping its comments."""
    name = f"{_q(database)}.main.{_q(table)}"
    cols = con.execute("SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = ? "
                       "AND table_name = ? ORDER BY column_index", [database, table]).fetchall()
    comment = con.execute("SELECT comment FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
                          [database, table]).fetchall()[0][0]
    parts = [f"{_q(c)} {t}" for c, t, _ in cols] + clauses
    # the plain table steps aside and the keyed one takes its name: DuckDB records the names of
    # the tables that reference a key when they are created, and renaming a keyed table breaks that
    plain = f"{table}__plain"
    con.execute(f"ALTER TABLE {name} RENAME TO {_q(plain)}")
    con.execute(f"CREATE TABLE {name} ({', '.join(parts)})")
    fill(con, table, f"INSERT INTO {name} SELECT * FROM {_q(database)}.main.{_q(plain)}")
    con.execute(f"DROP TABLE {_q(database)}.main.{_q(plain)}")
    if comment:
        con.execute(f"COMMENT ON TABLE {name} IS {sql_literal(comment)}")
    for c, _, text in cols:
        if text:
            con.execute(f"COMMENT ON COLUMN {name}.{_q(c)} IS {sql_literal(text)}")

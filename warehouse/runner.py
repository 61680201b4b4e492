"""Run the warehouse's ``.sql`` files in their declared order.

The order is the file path: ``sql/<NN>_<layer>/<NN>_<name>.sql``, so staging runs before
dimensions, dimensions before facts, facts before marts, and an analyst reading the
folder reads the build in the order it happens. Deliberately small (STACK.md: no
framework): each file runs as one script; a failure names the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb

from foundation.sqltext import literal as sql_literal
#: Layers of an audience file, in build order.
AUDIENCE_LAYERS = ("00_staging", "10_dimensions", "20_facts", "30_marts", "40_reports")
#: Layers computed in the evaluator's work database, then what the evaluator file gets.
EVALUATOR_WORK_LAYERS = ("00_staging", "10_dimensions", "20_facts", "30_marts")
EVALUATOR_LAYERS = ("90_evaluator", "40_reports")
#: What an incremental build redoes: dimensions compared, facts refreshed, marts and reports rebuilt.
DIMENSION_LAYERS = ("10_dimensions",)
FACT_LAYERS = ("20_facts",)
REBUILT_LAYERS = ("30_marts", "40_reports")


class SqlFileError(RuntimeError):
    """A mart file failed; the message names it so the fix starts in the right place."""


def sql_root() -> Path:
    return Path(__file__).resolve().parent / "sql"


def sql_files(layers: tuple[str, ...]) -> list[Path]:
    """The ``.sql`` files of ``layers``, in build order."""
    root = sql_root()
    out: list[Path] = []
    for layer in layers:
        files = sorted((root / layer).glob("*.sql"))
        if not files:
            raise SqlFileError(f"no .sql files in layer {layer} under {root}")
        out += files
    return out


def evaluator_copies() -> list[str]:
    """The tables the evaluator file copies unchanged from the work build (``90_evaluator/00_copied_tables.yml``)."""
    import yaml

    names = yaml.safe_load((sql_root() / "90_evaluator" / "00_copied_tables.yml").read_text())["copy"]
    bad = [n for n in names if not str(n).isidentifier()]
    if bad:
        raise SqlFileError(f"90_evaluator/00_copied_tables.yml: not table names: {bad}")
    return [str(n) for n in names]


def copy_tables(con: duckdb.DuckDBPyConnection, names: list[str], source: str) -> None:
    """``CREATE OR REPLACE TABLE t AS SELECT * FROM source.t`` for each name, in order."""
    for name in names:
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM "{source}"."{name}"')


def run_files(con: duckdb.DuckDBPyConnection, files: list[Path],
              run_statement: Callable[[duckdb.DuckDBPyConnection, str], None] | None = None) -> None:
    """Execute each file in order: as one script, or statement by statement through ``run_statement``
    (``constraints.run_models`` creates keyed models that way). An engine error names the file."""
    for f in files:
        try:
            if run_statement is None:
                con.execute(f.read_text())
            else:
                for statement in duckdb.extract_statements(f.read_text()):
                    run_statement(con, statement.query)
        except duckdb.Error as exc:
            raise SqlFileError(f"{f.parent.name}/{f.name}: {exc}") from exc


def copy_missing_comments(con: duckdb.DuckDBPyConnection, target: str, source: str) -> None:
    """Give ``target``'s tables and columns the comments of same-named ones in ``source``.

    The evaluator file copies dimensions from the work build; their documentation
    should travel with them rather than be written twice.
    """
    tables = con.execute(
        "SELECT t.table_name, s.comment FROM duckdb_tables() t JOIN duckdb_tables() s USING (table_name) "
        "WHERE t.database_name = ? AND s.database_name = ? AND t.comment IS NULL AND s.comment IS NOT NULL",
        [target, source]).fetchall()
    for table, comment in tables:
        con.execute(f'COMMENT ON TABLE "{target}".main."{table}" IS {sql_literal(comment)}')
    cols = con.execute(
        "SELECT t.table_name, t.column_name, s.comment FROM duckdb_columns() t "
        "JOIN duckdb_columns() s USING (table_name, column_name) "
        "WHERE t.database_name = ? AND s.database_name = ? AND t.comment IS NULL AND s.comment IS NOT NULL",
        [target, source]).fetchall()
    for table, column, comment in cols:
        con.execute(f'COMMENT ON COLUMN "{target}".main."{table}"."{column}" IS {sql_literal(comment)}')


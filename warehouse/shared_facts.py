"""An analyst file's facts as a filtered copy of the evaluator's work facts, not a second computation.

Every fact row is computed from its own event alone: the latest version of the event, that
version's child records, the reference tables. The evaluator's work build holds the facts of
every shareable caveat, a superset of what any analyst audience may see. So once a build's
work database exists (``audience_build.work_path``: the evaluator file is built first), each
analyst file takes its facts from it instead of running the facts' SQL over the staged lake
again:

- a table with a ``caveat`` column keeps the rows ``visible()`` to the file's audience;
- a child fact (an ``event_uid`` column, other than ``fact_events`` itself) keeps only the rows
  of the events this file's ``fact_events`` kept: a REL_CAN event's seizure lines are not shown
  to a REL_USA audience, whatever their own caveat, exactly as the facts' SQL joins them;
- the program facts (no caveat: finance, outreach, radio tests) are copied whole.

The result holds the same rows as the facts' SQL (``tests/test_incremental.py`` builds a file
both ways and compares every table); the work is a filtered scan of each table. When the work
database is absent (a build of analyst files only) the facts' SQL runs as before.
"""
from __future__ import annotations

from typing import Callable

import duckdb

from foundation.sqltext import identifier as _q
from warehouse import constraints, runner

#: The alias a build's work database is attached under.
WORK = "work"
#: The fact every other event fact hangs from.
EVENTS = "fact_events"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE database_name = ? "
                                      "AND table_name = ?", [WORK, table]).fetchall()}


def query(con: duckdb.DuckDBPyConnection, database: str, table: str, touched: bool = False) -> str:
    """The rows of ``table`` this file's audience may see, read from the attached work database.

    ``touched``: only the events listed in the temporary table ``ibet_touched`` (an incremental
    refresh; ``database``'s ``fact_events`` must already hold their new rows for the children).
    """
    columns = _columns(con, table)
    if not columns:
        raise LookupError(f"{table}: not in the work database")
    where = []
    if "caveat" in columns:
        where.append("visible(caveat)")
    if "event_uid" in columns and table != EVENTS:
        where.append(f"event_uid IN (SELECT event_uid FROM {_q(database)}.main.{_q(EVENTS)})")
    if "event_uid" in columns and touched:
        where.append("event_uid IN (SELECT event_uid FROM ibet_touched)")
    return f"SELECT * FROM {_q(WORK)}.main.{_q(table)}" + (" WHERE " + " AND ".join(where) if where else "")


def source(con: duckdb.DuckDBPyConnection, database: str) -> Callable[[str, str], str]:
    """For ``constraints.run_models``: each fact model (``runner.FACT_LAYERS``) read from the work
    database, every other model as written."""
    facts = {t for t, _ in constraints.models(runner.FACT_LAYERS)}

    def pick(table: str, sql: str) -> str:
        return query(con, database, table) if table in facts else sql
    return pick

"""Refresh an analyst audience file in place of rebuilding it: only the events the lake changed.

A build that follows a published one starts from a copy of the published file (a file copy,
the published file itself is never opened for writing) and redoes what changed since:

- the **dimensions** are computed again and compared with the copy's; if any differs (a new
  fiscal year, new reference data) the incremental path gives up and the file is built in full;
- the **event facts** (every fact table with an ``event_uid``) lose the rows of the events the
  staged lake's touch log names since the published build (``staging.stg_touched``), then get
  those events' rows again: the evaluator's work database (refreshed first) from the same model
  queries a full build runs, over a staged lake narrowed to those events (``touched_only``); an
  analyst file from the refreshed work facts its audience may see (``shared_facts.py``);
  the other facts (finance, outreach, radio tests: small) are replaced whole;
- an analyst file none of whose audience's events were touched (before or after), and whose program facts
  are unchanged, is left as copied (``unseen``): its facts and marts are the published ones;
- the **marts and reports** are dropped and run again from the facts, as in a full build, but for
  a mart declared ``refresh_by`` (its ``.yml``): one whose rows each depend on one key's records
  alone (``mart_cross_agency_links``: a pseudonym's sightings) keeps its other rows and has only
  the keys the touched events carry, before and after their refresh, deleted and recomputed,
  its query reading the facts narrowed to the rows that carry those keys. ``mart_indicators`` is
  refreshed by calendar and fiscal year: its whole file reads the facts narrowed to the touched years'
  days; the years only a comparison tells (a changed program fact, a person whose link across agencies
  changed) are found against a ``snapshot`` taken before the facts were redone (``keys_at_refresh``).

The result holds the same rows as a full build of the same lake (``tests/test_incremental.py``
compares every table); only the physical order of the rows of the facts and of the key-refreshed marts
differs.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import duckdb

from foundation.sqltext import identifier as _q
from foundation.sqltext import literal
from warehouse import constraints, runner, shared_facts
from warehouse.staging import EVENT_TABLES


#: Prefix of the temporary table of the keys a key-refreshed mart is redone for (``refresh_by``).
KEYS_PREFIX = "ibet_touched_keys_"


def keyed_marts(layers: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The models of ``layers`` declared ``refresh_by`` in their ``.yml``: key, keys query, facts read."""
    declared = constraints.declared()
    return {t: declared[t]["refresh_by"] for t, _ in constraints.models(layers)
            if (declared.get(t) or {}).get("refresh_by")}


@contextmanager
def _shadowed(con: duckdb.DuckDBPyConnection, views: dict[str, str]) -> Iterator[None]:
    """Temporary views named like tables of the current database: within the block, a model's query
    that names those tables reads the views (the temporary schema is searched first)."""
    for name, sql in views.items():
        con.execute(f"CREATE OR REPLACE TEMP VIEW {_q(name)} AS {sql}")
    try:
        yield
    finally:
        for name in views:
            con.execute(f"DROP VIEW IF EXISTS temp.main.{_q(name)}")


def _collect_keys(con: duckdb.DuckDBPyConnection, database: str, marts: dict[str, dict[str, Any]],
                  first: bool) -> None:
    """Add to each key-refreshed mart's key table the keys the touched events' fact rows carry now
    (called before the facts lose those rows and after they get them again: a key an event no
    longer carries must be recomputed too)."""
    for table, spec in marts.items():
        keys = _q(KEYS_PREFIX + table)
        touched = {t: f"SELECT * FROM {_q(database)}.main.{_q(t)} "
                      f"WHERE event_uid IN (SELECT event_uid FROM ibet_touched)" for t in spec["reads"]}
        with _shadowed(con, touched):
            con.execute((f"CREATE OR REPLACE TEMP TABLE {keys} AS " if first else f"INSERT INTO {keys} ")
                        + spec["keys"])


def _covers_all(con: duckdb.DuckDBPyConnection, database: str, table: str, spec: dict[str, Any]) -> bool:
    """Whether the mart's collected keys are every key it holds: then it is cheaper run whole (no
    narrowing, no delete, no comparison), and gives the same rows."""
    columns = ", ".join(map(_q, spec["key"]))
    return not con.execute(f"SELECT EXISTS (SELECT {columns} FROM {_q(database)}.main.{_q(table)} "
                           f"EXCEPT SELECT {columns} FROM {_q(KEYS_PREFIX + table)})").fetchall()[0][0]


def _snapshot(con: duckdb.DuckDBPyConnection, database: str, marts: dict[str, dict[str, Any]]) -> None:
    """Keep, as temporary tables, what a key-refreshed mart's ``keys_at_refresh`` compares with the
    refreshed build (``snapshot`` in its ``.yml``: taken before the touched events are redone), unless the
    touched events already touch every key (the mart is then run whole)."""
    for table, spec in marts.items():
        if spec.get("snapshot") and not _covers_all(con, database, table, spec):
            for name, query in spec["snapshot"].items():
                con.execute(f"CREATE OR REPLACE TEMP TABLE {_q(name)} AS {query}")


def _drop_snapshots(con: duckdb.DuckDBPyConnection, marts: dict[str, dict[str, Any]]) -> None:
    for spec in marts.values():
        for name in spec.get("snapshot") or {}:
            con.execute(f"DROP TABLE IF EXISTS temp.main.{_q(name)}")


def _narrowed(database: str, table: str, spec: dict[str, Any]) -> dict[str, str]:
    """The facts a key-refreshed mart reads, as views narrowed to the rows its collected keys need."""
    keys = _q(KEYS_PREFIX + table)
    return {t: f"SELECT * FROM {_q(database)}.main.{_q(t)} WHERE " + condition.replace("{keys}", keys)
            for t, condition in spec["reads"].items()}


def _final_keys(con: duckdb.DuckDBPyConnection, database: str, table: str, spec: dict[str, Any]) -> bool:
    """Make the mart's key table distinct and complete it just before the mart is refreshed
    (``keys_at_refresh``: keys that only the marts redone before it, or the snapshot, tell); False when
    the keys are every key the mart holds (run it whole instead)."""
    keys = _q(KEYS_PREFIX + table)
    if _covers_all(con, database, table, spec):
        return False
    con.execute(f"CREATE OR REPLACE TEMP TABLE {keys} AS SELECT DISTINCT * FROM {keys}")
    if not spec.get("keys_at_refresh"):
        return True
    con.execute(f"INSERT INTO {keys} SELECT * FROM ({spec['keys_at_refresh']}) EXCEPT SELECT * FROM {keys}")
    return not _covers_all(con, database, table, spec)  # the keys it added may be the rest


def _refresh_by_key(con: duckdb.DuckDBPyConnection, database: str, table: str, query: str,
                    spec: dict[str, Any]) -> int:
    """Delete the mart's rows of the collected keys and insert them recomputed; how many keys."""
    keys = _q(KEYS_PREFIX + table)
    name = f"{_q(database)}.main.{_q(table)}"
    columns = ", ".join(map(_q, spec["key"]))
    con.execute(f"DELETE FROM {name} WHERE ({columns}) IN (SELECT {columns} FROM {keys})")
    with _shadowed(con, _narrowed(database, table, spec)):
        con.execute(f"INSERT INTO {name} SELECT * FROM ({query}) SEMI JOIN {keys} USING ({columns})")
    return con.execute(f"SELECT count(*) FROM {keys}").fetchall()[0][0]


def dimensions_unchanged(con: duckdb.DuckDBPyConnection, database: str) -> bool:
    """True when every dimension model, computed now, has exactly the rows the copied file holds."""
    return not any(_differ(con, f"SELECT * FROM ({query})", f"SELECT * FROM {_q(database)}.main.{_q(table)}")
                   for table, query in constraints.models(runner.DIMENSION_LAYERS))


def _differ(con: duckdb.DuckDBPyConnection, a: str, b: str) -> bool:
    """Whether the queries ``a`` and ``b`` give other rows (as multisets: order aside, duplicates counted)."""
    return con.execute(f"SELECT EXISTS ({a} EXCEPT ALL {b}) OR EXISTS ({b} EXCEPT ALL {a})").fetchall()[0][0]


def _has_event_uid(con: duckdb.DuckDBPyConnection, database: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_columns() WHERE database_name = ? AND table_name = ? "
                            "AND column_name = 'event_uid'", [database, table]).fetchall()[0][0])


@contextmanager
def touched_only(con: duckdb.DuckDBPyConnection, staging_file: Path, since: int) -> Iterator[int]:
    """Within the block the ``staged`` lake holds only the events touched after log entry ``since``
    (every version of each: the latest still wins), the other staged tables whole; yields how many.

    The staging views (``00_staging``) are bound again to that narrowed lake, so the facts' model
    queries compute exactly those events' rows, reading nothing else; afterwards the whole lake
    is attached again, as a full build sees it.
    """
    path = literal(str(staging_file))
    con.execute("DETACH staged")
    con.execute(f"ATTACH {path} AS ibet_lake (READ_ONLY)")
    con.execute("ATTACH ':memory:' AS staged")
    try:
        touched = _list_touched(con, "ibet_lake", since)
        event_tables = {f"stg_{t}" for t in EVENT_TABLES} | {"stg_latest"}
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'ibet_lake'"
                                    ).fetchall():
            narrow = " SEMI JOIN ibet_touched USING (event_uid)" if table in event_tables else ""
            con.execute(f"CREATE VIEW staged.main.{_q(table)} AS SELECT * FROM ibet_lake.main.{_q(table)}{narrow}")
        runner.run_files(con, runner.sql_files(("00_staging",)))
        yield touched
    finally:
        con.execute("DETACH staged")
        con.execute("DETACH ibet_lake")
        con.execute(f"ATTACH {path} AS staged (READ_ONLY)")
        runner.run_files(con, runner.sql_files(("00_staging",)))


def _list_touched(con: duckdb.DuckDBPyConnection, lake: str, since: int) -> int:
    """The temporary table ``ibet_touched``: the events the attached lake ``lake``'s touch log names
    after entry ``since``; how many."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE ibet_touched AS SELECT DISTINCT event_uid "
                f"FROM {_q(lake)}.main.stg_touched WHERE seq > ?", [since])
    return con.execute("SELECT count(*) FROM ibet_touched").fetchall()[0][0]


@contextmanager
def _touched_list(con: duckdb.DuckDBPyConnection, since: int) -> Iterator[int]:
    """``ibet_touched`` from the attached staged lake's log, the staging views left whole; yields how many."""
    yield _list_touched(con, "staged", since)


def unseen(con: duckdb.DuckDBPyConnection, database: str, since: int) -> bool:
    """True when this analyst file has nothing to redo: no event touched after log entry ``since`` is
    visible to its audience, before (in the copied file) or after (in the build's refreshed work database),
    and the program facts it may see are the ones it holds (they have no event, and are replaced whole).

    Its facts are then the published ones, and so are its marts (each a function of the facts and of the
    dimensions, which ``redo`` found unchanged): the file is the copy as it stands. A day of REL_USA
    records touches neither ``ibet`` nor ``can``.
    """
    _list_touched(con, "staged", since)
    events = f"{_q(shared_facts.WORK)}.main.{_q(shared_facts.EVENTS)}"
    if con.execute(f"SELECT EXISTS (SELECT 1 FROM {_q(database)}.main.{_q(shared_facts.EVENTS)} "
                   f"SEMI JOIN ibet_touched USING (event_uid)) OR EXISTS (SELECT 1 FROM {events} "
                   f"SEMI JOIN ibet_touched USING (event_uid) WHERE visible(caveat))").fetchall()[0][0]:
        return False
    return not any(_differ(con, f"SELECT * FROM {_q(database)}.main.{_q(table)}",
                           shared_facts.query(con, database, table))
                   for table, _ in constraints.models(runner.FACT_LAYERS) if not _has_event_uid(con, database, table))


def refresh_facts(con: duckdb.DuckDBPyConnection, database: str, staging_file: Path, since: int,
                  from_work: bool = False) -> int:
    """Replace the fact rows of the events touched after log entry ``since``; the number of such events.

    ``from_work``: the new rows are read from the build's refreshed work database (attached as
    ``shared_facts.WORK``) instead of computed again from the staged lake.
    """
    facts = constraints.models(runner.FACT_LAYERS)
    keyed = {t: _has_event_uid(con, database, t) for t, _ in facts}
    marts = keyed_marts(runner.REBUILT_LAYERS)
    with (_touched_list(con, since) if from_work else touched_only(con, staging_file, since)) as touched:
        _collect_keys(con, database, marts, first=True)
        _snapshot(con, database, marts)
        for table, _ in reversed(facts):  # children first (a model's engine keys may point at the ones before it)
            name = f"{_q(database)}.main.{_q(table)}"
            if keyed[table]:
                con.execute(f"DELETE FROM {name} WHERE event_uid IN (SELECT event_uid FROM ibet_touched)")
            else:  # the program facts (finance, outreach, radio tests) are small: replaced whole
                con.execute(f"DELETE FROM {name}")
        for table, query in facts:
            if from_work:
                query = shared_facts.query(con, database, table, touched=keyed[table])
            constraints.fill(con, table, f"INSERT INTO {_q(database)}.main.{_q(table)} {query}")
        _collect_keys(con, database, marts, first=False)
    return touched


def _referenced_unchanged(con: duckdb.DuckDBPyConnection, database: str, queries: dict[str, str],
                          kept: set[str]) -> set[str]:
    """The models a kept mart's foreign keys point at (``dim_indicator``): DuckDB will not drop
    a table another one references, so each is kept as copied when its query gives the rows it holds; when
    it does not, the mart is dropped from ``kept`` (``kept`` is updated) and rebuilt whole with it.
    ``queries``: the layers' models, table -> query."""
    frozen: set[str] = set()
    for mart in sorted(kept):
        refs = {ref_table for _, ref_table, _ in constraints.references(constraints.declared()[mart])}
        refs &= set(queries)
        if any(_differ(con, f"SELECT * FROM ({queries[r]})", f"SELECT * FROM {_q(database)}.main.{_q(r)}")
               for r in refs):
            kept.discard(mart)
        else:
            frozen |= refs
    return frozen


def rebuild_marts(con: duckdb.DuckDBPyConnection, database: str, keyed: bool = True) -> None:
    """Drop the marts and reports (dependants first) and run their SQL again over the refreshed facts,
    but refresh a ``refresh_by`` mart in place, by key (``refresh_facts`` collected the keys).

    ``keyed``: an analyst file, its models created with their declared keys. Otherwise the
    evaluator's work database: no keys, and only the layers its full build runs there (its
    reports are made in the evaluator file, after suppression)."""
    layers = runner.REBUILT_LAYERS if keyed else tuple(x for x in runner.EVALUATOR_WORK_LAYERS
                                                         if x in runner.REBUILT_LAYERS)
    marts = keyed_marts(layers)
    present = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ? OR "
                                         "(temporary AND table_name LIKE ?)",
                                         [database, KEYS_PREFIX + "%"]).fetchall()}
    kept = {t for t in marts if t in present and KEYS_PREFIX + t in present}
    models = constraints.models(layers)
    frozen = _referenced_unchanged(con, database, dict(models), kept)
    for table, _ in reversed(models):
        if table not in kept | frozen:
            con.execute(f"DROP TABLE IF EXISTS {_q(database)}.main.{_q(table)}")

    def refresh(table: str, query: str) -> bool:
        if table not in kept:
            return False
        _refresh_by_key(con, database, table, query, marts[table])
        return True

    def run(c: duckdb.DuckDBPyConnection, sql: str) -> None:
        model = constraints.model_of(sql)
        if not (model and refresh(*model)):
            c.execute(sql)

    # a key-refreshed mart's whole file reads the narrowed facts: the statements before its model (the
    # indicators' per-day totals) are the costly part, and they too need only its keys' rows
    for f in runner.sql_files(layers):
        table = constraints.model_name(f)
        if table in frozen:
            continue
        if table in kept and not _final_keys(con, database, table, marts[table]):
            kept.discard(table)  # every key touched: run whole, as a full build does
        with _shadowed(con, _narrowed(database, table, marts[table]) if table in kept else {}):
            if keyed:
                constraints.run_models(con, [f], database, refresh=refresh)
            else:
                runner.run_files(con, [f], run)
    _drop_snapshots(con, marts)


def copy_file(source: Path, target: Path) -> None:
    """Copy the published file to start from (the kernel copies; the source is only read)."""
    import shutil

    shutil.copyfile(source, target)
    target.chmod(0o600)


def redo(con: duckdb.DuckDBPyConnection, database: str, staging_file: Path, since: int,
         keyed: bool = True, from_work: bool = False) -> int | None:
    """Bring ``database`` (a copy of a published build's file, the connection's current database)
    up to the staged lake: the events touched after log entry ``since`` redone in the facts, the
    marts and reports run again; the number of such events. None, with nothing changed but the
    staging views, when a dimension differs: then only a full build is right.

    ``meta_quality_history`` is dropped: the quality gate writes it afresh after auditing the file.
    ``from_work``: the facts' new rows come from the build's work database (``shared_facts.py``).
    """
    runner.run_files(con, runner.sql_files(("00_staging",)))
    if not dimensions_unchanged(con, database):
        return None
    con.execute(f"DROP TABLE IF EXISTS {_q(database)}.main.meta_quality_history")
    if from_work and unseen(con, database, since):
        return 0
    touched = refresh_facts(con, database, staging_file, since, from_work)
    rebuild_marts(con, database, keyed)
    return touched

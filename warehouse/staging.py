"""The staged copy of the lake: one DuckDB file the marts are built from, refreshed by partition.

Why a staged copy and not views straight over Parquet: every audience file is built
from the same rows, and a new extract date should only cost reading that date's
partition. ``refresh`` compares the lake's partition files (size and modification
time) with what was staged last time and replaces only the partitions that changed,
appeared or disappeared, in one transaction. ``full=True`` (or a missing or
unreadable staged file) reloads everything; both give the same tables, which the
tests check. The staged file holds every caveat (ORCON included) and is never
published: audience filtering happens when the audience files are built.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from foundation import duck
from foundation.lake import lake_lock
from foundation.lakestore import LakeStore
from foundation.settings import Settings
from transforms.canonical import TABLES

#: Lake partition column of each canonical table (program finance is keyed by fiscal year).
PARTITION_COLUMN = {t: ("fiscal_year" if t == "finance" else "extract_date") for t in TABLES}
PARTITION_TYPE = {"extract_date": "DATE", "fiscal_year": "VARCHAR"}
MANIFEST_COLUMNS = [("source", "VARCHAR"), ("agency", "VARCHAR"), ("file", "VARCHAR"), ("partition", "VARCHAR"),
                    ("checksum", "VARCHAR"), ("first_ingested_at", "TIMESTAMPTZ"), ("rows_read", "BIGINT"),
                    ("rows_loaded", "BIGINT"), ("rows_quarantined", "BIGINT"),
                    ("tables", "VARCHAR"),  #: JSON: rows the ingest wrote per canonical table
                    ("key_fingerprint", "VARCHAR")]  #: which pseudonymization key made the partition's pseudonyms


@dataclass
class RefreshResult:
    """What one refresh did, for logs, CLI output and the marts DAG's summary."""

    full: bool
    changed: list[str] = field(default_factory=list)  #: lake-relative partition files (re)loaded
    removed: list[str] = field(default_factory=list)  #: partitions no longer in the lake
    rows: dict[str, int] = field(default_factory=dict)  #: staged rows per table after the refresh
    agency_events: dict[str, int] = field(default_factory=dict)  #: staged events per agency (volume check)
    fingerprint: str = ""  #: digest of every staged partition and manifest: equal digests, equal data
    epoch: str = ""  #: identity of this staged file: a touch log is only comparable within one epoch
    sequence: int = 0  #: this refresh's number in the touch log (``incremental.touched_only`` reads after it)


def staging_path(settings: Settings) -> Path:
    return settings.warehouse / ".build" / "staging.duckdb"


def _lake_partitions(store: LakeStore, table: str) -> dict[str, tuple[int, int]]:
    """Partition path -> version stamp (local: size and mtime; object storage: the manifest's digest)."""
    return store.partitions(table)


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table, cols in TABLES.items():
        pcol = PARTITION_COLUMN[table]
        body = ", ".join(f'"{c}" {t}' for c, t in cols)
        con.execute(f"CREATE TABLE IF NOT EXISTS stg_{table} ({body}, agency VARCHAR, {pcol} {PARTITION_TYPE[pcol]}, "
                    f"_partition VARCHAR)")
        for c, t in cols:  # a column the canonical model gained since this staged copy was made
            con.execute(f'ALTER TABLE stg_{table} ADD COLUMN IF NOT EXISTS "{c}" {t}')
    con.execute("CREATE TABLE IF NOT EXISTS stg_partitions (table_name VARCHAR, path VARCHAR, size BIGINT, "
                "mtime_ns BIGINT, PRIMARY KEY (table_name, path))")
    body = ", ".join(f"{c} {t}" for c, t in MANIFEST_COLUMNS)
    con.execute(f"CREATE TABLE IF NOT EXISTS stg_manifest ({body})")
    # the touch log: which events each refresh replaced, so that a build can redo only those
    con.execute("CREATE TABLE IF NOT EXISTS stg_touched (seq BIGINT, event_uid VARCHAR)")
    con.execute("CREATE TABLE IF NOT EXISTS stg_sequence (epoch VARCHAR, seq BIGINT)")
    has = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'stg_latest' "
                                      "AND database_name = current_database() ORDER BY column_index").fetchall()]
    if has != list(LATEST_COLUMNS):  # a copy staged before the table (or one of its columns) existed: made whole
        con.execute(f"CREATE OR REPLACE TABLE stg_latest AS {latest_sql()}")
    con.execute("INSERT INTO stg_sequence SELECT CAST(uuid() AS VARCHAR), 0 WHERE NOT EXISTS (SELECT 1 FROM stg_sequence)")
    for c, t in MANIFEST_COLUMNS:
        con.execute(f"ALTER TABLE stg_manifest ADD COLUMN IF NOT EXISTS {c} {t}")


#: ``stg_latest``'s columns: the winning row (partition, row), its extract, how many versions, and the
#: winning version's date and caveat (``dim_date`` spans the visible events' dates from them alone).
LATEST_COLUMNS = ("event_uid", "_partition", "source_row", "extract_date", "versions", "event_date", "caveat")


def latest_sql(where: str = "") -> str:
    """Which staged row of each event (``where``: of these events) is its latest version, and how many
    versions the lake holds: the latest extract wins, then the last row of the file, then the partition
    path (a tie is broken the same way every time).

    ``stg_latest`` holds it, kept in step by ``refresh`` for the events each refresh touches, so that a
    build joins it (``00_staging``) instead of ranking every staged version again in each statement and
    each audience file that reads the events."""
    columns = ", ".join(c for c in LATEST_COLUMNS if c != "versions")
    return (f"SELECT {', '.join(LATEST_COLUMNS)} FROM (SELECT {columns}, row_number() OVER (PARTITION BY event_uid "
            "ORDER BY extract_date DESC, source_row DESC, _partition DESC) AS version_rank, "
            f"count(*) OVER (PARTITION BY event_uid) AS versions FROM stg_events {where}) WHERE version_rank = 1")


def _relatest(con: duckdb.DuckDBPyConnection, seq: int) -> None:
    """Bring ``stg_latest`` up to date for the events refresh ``seq`` touched (removed, added or replaced)."""
    touched = "event_uid IN (SELECT event_uid FROM stg_touched WHERE seq = $seq)"
    con.execute(f"DELETE FROM stg_latest WHERE {touched}", {"seq": seq})
    con.execute(f"INSERT INTO stg_latest {latest_sql('WHERE ' + touched)}", {"seq": seq})


def _touch(con: duckdb.DuckDBPyConnection, table: str, partitions: list[str], seq: int) -> None:
    """Log the events that have staged rows of ``table`` in ``partitions`` (before a delete, after an insert)."""
    con.execute(f"INSERT INTO stg_touched SELECT DISTINCT CAST(? AS BIGINT), event_uid FROM stg_{table} "
                "WHERE _partition IN (SELECT unnest(?::VARCHAR[]))", [seq, partitions])


class LakeIntegrityError(RuntimeError):
    """A lake file is not the file its ingest wrote (damaged or altered); the message says how to recover."""


class MixedKeysError(RuntimeError):
    """Partitions of the lake were pseudonymized under different keys: their pseudonyms cannot link."""


def verify_files(store: LakeStore, files: list[str]) -> None:
    """Each file's SHA-256 against the digest its ingest recorded; a clear error naming the first bad one."""
    recorded = store.digests()
    for rel in files:
        if rel in recorded and store.checksum(rel) != recorded[rel][0]:
            agency, source_file = recorded[rel][1].split("/", 1)
            raise LakeIntegrityError(
                f"lake file {rel} does not match what its ingest wrote (damaged or altered): re-ingest "
                f"`ibet ingest {agency} {source_file}` (from the inbox or the agency) or restore the file, "
                f"then build again")


def check_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Refuse a lake whose partitions were pseudonymized under more than one key."""
    keys = con.execute("SELECT key_fingerprint, list(agency || '/' || partition ORDER BY agency, partition) "
                       "FROM stg_manifest WHERE key_fingerprint IS NOT NULL GROUP BY 1 ORDER BY 2").fetchall()
    if len(keys) > 1:
        groups = "; ".join(f"key {fp}: {', '.join(parts[:3])}{' …' if len(parts) > 3 else ''}" for fp, parts in keys)
        raise MixedKeysError(f"the lake holds pseudonyms of {len(keys)} different keys ({groups}): their "
                             "pseudonyms would never link. Re-ingest the inbox under the current key, then "
                             "`ibet build --full`")


def _manifests(store: LakeStore) -> pa.Table:
    """Every ingest manifest (``_ingest/<source>/<key>.json``) as one small Arrow table."""
    rows = []
    for m in store.manifests():
        row = {c: m.get(c) for c, _ in MANIFEST_COLUMNS}
        row["tables"] = json.dumps(m.get("tables") or {}, sort_keys=True)
        rows.append(row)
    names = [c for c, _ in MANIFEST_COLUMNS]
    return pa.table({c: [r[c] for r in rows] for c in names}) if rows else pa.table({c: pa.array([], pa.string())
                                                                                        for c in names})


#: Staged tables whose rows belong to an event: their changes are written to the touch log.
EVENT_TABLES = tuple(t for t, cols in TABLES.items() if any(c == "event_uid" for c, _ in cols))


def refresh(settings: Settings, full: bool = False, verify: bool = False,
            prune_through: int | None = None) -> RefreshResult:
    """Bring the staged copy up to date with the lake; reload everything when ``full``.

    Every partition file that is (re)read is first checked against the SHA-256 its ingest
    recorded; ``verify`` checks every file of the lake, changed or not. Each refresh gets the
    next number of the touch log and records there every event whose staged rows it removed or
    added; ``prune_through`` drops the log's entries up to that number (those the published
    build already holds)."""
    path = staging_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    if full:
        for p in (path, path.with_name(path.name + ".wal")):
            p.unlink(missing_ok=True)
    try:
        con = duck.connect(str(path))
    except duckdb.Error:  # unreadable (e.g. written by another DuckDB version): start again
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
        con = duck.connect(str(path))
        full = True
    result = RefreshResult(full=full)
    # exclusive: no ingest of this host is half-way (partitions written, manifest not yet) while we snapshot;
    # on object storage the manifests are the switch, so other hosts' ingests cannot tear the snapshot either
    with lake_lock(settings.lake, exclusive=True):
        try:
            _refresh(con, settings.lake_store, result, verify, prune_through)
        finally:
            con.close()
    return result


def _refresh(con: duckdb.DuckDBPyConnection, store: LakeStore, result: RefreshResult, verify: bool = False,
             prune_through: int | None = None) -> None:
    try:
        _create_tables(con)
        store.attach(con)
        con.execute("BEGIN TRANSACTION")
        result.epoch, result.sequence = con.execute(
            "UPDATE stg_sequence SET seq = seq + 1 RETURNING epoch, seq").fetchall()[0]
        if prune_through is not None:
            con.execute("DELETE FROM stg_touched WHERE seq <= ?", [prune_through])
        for table in TABLES:
            now = _lake_partitions(store, table)
            before = {p: (s, m) for p, s, m in con.execute(
                "SELECT path, size, mtime_ns FROM stg_partitions WHERE table_name = ?", [table]).fetchall()}
            changed = sorted(p for p, stat in now.items() if before.get(p) != stat)
            verify_files(store, sorted(now) if verify else changed)
            removed = sorted(set(before) - set(now))
            gone = changed + removed
            if gone and table in EVENT_TABLES:
                _touch(con, table, gone, result.sequence)
            if gone:
                con.execute(f"DELETE FROM stg_{table} WHERE _partition IN (SELECT unnest(?::VARCHAR[]))", [gone])
                con.execute("DELETE FROM stg_partitions WHERE table_name = ? AND path IN (SELECT unnest(?::VARCHAR[]))",
                            [table, gone])
            if changed:
                where = store.sources(changed)  # partition path -> what read_parquet reads
                pcol = PARTITION_COLUMN[table]
                con.register("_ibet_files", pa.table({"url": list(where.values()), "rel": list(where)}))
                con.execute(
                    f"INSERT INTO stg_{table} BY NAME SELECT r.* EXCLUDE (filename, {pcol}), "
                    f"CAST(r.{pcol} AS {PARTITION_TYPE[pcol]}) AS {pcol}, f.rel AS _partition "
                    f"FROM read_parquet(?::VARCHAR[], hive_partitioning = true, hive_types_autocast = false, "
                    f"filename = true, union_by_name = true) r JOIN _ibet_files f ON r.filename = f.url",
                    [list(where.values())])
                con.unregister("_ibet_files")
                con.executemany("INSERT INTO stg_partitions VALUES (?, ?, ?, ?)",
                                [[table, p, *now[p]] for p in changed])
                if table in EVENT_TABLES:
                    _touch(con, table, changed, result.sequence)
            result.changed += changed
            result.removed += removed
        _relatest(con, result.sequence)
        manifests = _manifests(store)
        con.execute("DELETE FROM stg_manifest")
        con.register("manifests_in", manifests)
        con.execute("INSERT INTO stg_manifest BY NAME SELECT * FROM manifests_in")
        con.unregister("manifests_in")
        check_keys(con)
        con.execute("COMMIT")
        for table in TABLES:
            result.rows[table] = con.execute(f"SELECT count(*) FROM stg_{table}").fetchall()[0][0]
        result.agency_events = dict(con.execute("SELECT agency, count(*) FROM stg_events GROUP BY ALL "
                                                "ORDER BY ALL").fetchall())
        state = con.execute("SELECT table_name, path, size, mtime_ns FROM stg_partitions ORDER BY ALL").fetchall()
        state += con.execute("SELECT source, file, checksum, CAST(first_ingested_at AS VARCHAR) FROM stg_manifest "
                             "ORDER BY ALL").fetchall()
        result.fingerprint = hashlib.sha256(repr(state).encode()).hexdigest()
        con.execute("CHECKPOINT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise

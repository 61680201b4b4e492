"""One audience's DuckDB file: reference tables, the SQL layers over the staged lake, metadata.

Each audience sees only its caveats (``ibet_build_caveats``); the evaluator's file is built
from a full work database, gets aggregates only, primary then complementary suppression
(``suppression.py``), and its reports. Written in DuckDB's ``STORAGE_VERSION`` so that the
clients analysts use read it.
"""
from __future__ import annotations

import datetime as dt
import time
from importlib import metadata
from pathlib import Path

import duckdb
import polars as pl

from foundation import duck, reference, vocabulary
from foundation.logs import get_logger
from foundation.registry import AGENCIES
from foundation.settings import AUDIENCES, SUPPRESSION_THRESHOLD, Settings
from foundation.sqltext import literal
from warehouse import constraints, incremental, runner, shared_facts, suppression
from warehouse.publish import AudienceBuild, current_build_id, published_path
from warehouse.shared_facts import WORK
from warehouse.staging import staging_path



#: Published files are written in DuckDB's v1.5.0 storage format: DuckDB 1.5 clients (the
#: `duckdb` shell shipped in the venv, BI drivers) and 2.x read them alike.
STORAGE_VERSION = "v1.5.0"


def register_reference(con: duckdb.DuckDBPyConnection, caveats: tuple[str, ...]) -> None:
    """Temporary source tables the dimension SQL reads (reference data, registry, audience)."""
    regions = reference.regions().select("region_code", "region_name", "min_lon", "max_lon", "min_lat", "max_lat",
                                         "maritime")
    agencies = pl.DataFrame([{"agency_code": a.code, "agency_name": a.name, "country": a.country,
                              "reports": a.reports, "fiscal_calendar": a.fiscal_calendar} for a in AGENCIES.values()])
    categories = pl.DataFrame([{"category": c, "label": label, "description": text}
                               for c, (label, text) in vocabulary.CATEGORIES.items()])
    commodities = pl.DataFrame([{"commodity": c, "category": k, "measured_in": m}
                                for c, (k, m) in vocabulary.COMMODITIES.items()]
                               + [{"commodity": vocabulary.UNSPECIFIED, "category": None, "measured_in": "value"}])
    fx = pl.read_csv(reference.reference_path("fx_rates.csv"), schema_overrides={"usd_to_cad": pl.Float64})
    ref = reference.program_reference()
    p = ref["program"]
    program = pl.DataFrame([{"program": p["name"], "lead_department": p["lead_department"],
                             "total_allocation_cad": float(p["total_allocation_cad"]),
                             "allocation_start": p["start_date"], "allocation_end": p["end_date"],
                             "source": "program_reference.yml (RCMP DPR 2006-07, horizontal initiatives table)"}])
    planned = pl.DataFrame([{"fiscal_year": fy, "agency": a, "planned_results": " ".join(str(text).split())}
                            for fy, year in ref.get("years", {}).items()
                            for a, text in (year.get("planned_results") or {}).items()],
                           schema={"fiscal_year": pl.Utf8, "agency": pl.Utf8, "planned_results": pl.Utf8})
    tables = {"src_regions": regions, "src_agencies": agencies, "src_categories": categories,
              "src_commodities": commodities, "src_fx_rates": fx, "src_program": program,
              "src_planned_results": planned, "ibet_build_caveats": pl.DataFrame({"caveat": list(caveats)})}
    for name, df in tables.items():
        con.register(f"_{name}", df.to_arrow())
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _{name}")
        con.unregister(f"_{name}")
    con.execute(f"CREATE OR REPLACE TEMP MACRO ibet_suppression_threshold() AS {int(SUPPRESSION_THRESHOLD)}")
    for calendar, suffix in (("CAN", "can"), ("USA", "us")):  # the SQL calendar macros' first months
        con.execute(f"CREATE OR REPLACE TEMP MACRO ibet_fy_start_{suffix}() AS "
                    f"{int(vocabulary.FISCAL_START_MONTH[calendar])}")


def _meta(con: duckdb.DuckDBPyConnection, audience: str, caveats: tuple[str, ...], build_id: str) -> None:
    try:
        version = metadata.version("ibet-warehouse")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        version = "dev"
    # nothing here may describe data the audience cannot see (no counts of the staged lake)
    con.execute(
        "CREATE OR REPLACE TABLE meta_build AS SELECT ? AS build_id, ? AS audience, ?::VARCHAR[] AS caveats, "
        "?::TIMESTAMPTZ AS built_at, ? AS suppression_threshold, ? AS ibet_version",
        [build_id, audience, list(caveats), dt.datetime.now(dt.timezone.utc),
         SUPPRESSION_THRESHOLD if audience == "evaluator" else None, version])
    con.execute("COMMENT ON TABLE meta_build IS 'When and how this file was built, for whom.'")
    for col, text in (("build_id", "The build this file belongs to (the four audience files of a set share it)."),
                      ("audience", "Audience this file is published for."),
                      ("caveats", "Caveats whose records this file may contain (aggregated only, for evaluator)."),
                      ("built_at", "When the build ran, UTC."),
                      ("suppression_threshold", "Counts below this are withheld (evaluator file only)."),
                      ("ibet_version", "Version of ibet-warehouse that built the file.")):
        con.execute(f"COMMENT ON COLUMN meta_build.{col} IS '{text}'")


def _table_counts(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND NOT temporary ORDER BY table_name",
        [database]).fetchall()]
    return {n: con.execute(f'SELECT count(*) FROM "{database}".main."{n}"').fetchall()[0][0] for n in names}


def _fresh(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def build_audience(settings: Settings, audience: str, directory: Path, since: int | None = None) -> AudienceBuild:
    """Write ``<directory>/<audience>.duckdb`` from the staged lake; return its table sizes.

    With ``since`` (the touch-log position the published build was made at), an analyst file
    starts from a copy of the published one and redoes only the events touched after it
    (``incremental.py``), and the evaluator's work database (never published, kept beside the
    staged lake for the published build) likewise; each is built in full when there is nothing
    to start from or when a dimension changed.
    """
    started = time.monotonic()
    published = published_path(settings, audience)
    done = None
    if audience == "evaluator":
        done = _build_evaluator(settings, directory, since)
    elif since is not None and published.exists():
        done = _build_incremental(settings, audience, directory, published.resolve(), since)
    touched, tables = done if done else (None, _build_full(settings, audience, directory))
    out = directory / f"{audience}.duckdb"
    out.chmod(0o640)
    return AudienceBuild(audience, out, published, tables, time.monotonic() - started, touched)


def _open(settings: Settings, audience: str, out: Path) -> duckdb.DuckDBPyConnection:
    con = duck.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"ATTACH {literal(str(out))} AS pub (STORAGE_VERSION '{STORAGE_VERSION}')")
    con.execute("USE pub")
    con.execute(f"ATTACH {literal(str(staging_path(settings)))} AS staged (READ_ONLY)")
    register_reference(con, AUDIENCES[audience])
    return con


def _attach_work(settings: Settings, con: duckdb.DuckDBPyConnection, build_id: str) -> bool:
    """Attach this build's evaluator work database, read-only, as ``WORK`` when the
    evaluator file was built (it is built first): an analyst file then copies its facts from it."""
    work = work_path(settings, build_id)
    if not work.exists():
        return False
    con.execute(f"ATTACH {literal(str(work))} AS {WORK} (READ_ONLY)")
    return True


def _finish(con: duckdb.DuckDBPyConnection, audience: str, build_id: str) -> dict[str, int]:
    constraints.apply(con, "pub")
    constraints.write_keys(con, "pub")
    _meta(con, audience, AUDIENCES[audience], build_id)
    con.execute("DETACH staged")
    con.execute(f"DETACH DATABASE IF EXISTS {WORK}")
    tables = _table_counts(con, "pub")
    con.execute("CHECKPOINT pub")
    return tables


def _build_incremental(settings: Settings, audience: str, directory: Path, base: Path,
                       since: int) -> tuple[int, dict[str, int]] | None:
    """The published file, copied, with the touched events redone: (events redone, table sizes); None
    (and nothing left behind) when it must be built in full."""
    out = directory / f"{audience}.duckdb"
    _fresh(out)
    incremental.copy_file(base, out)
    con = _open(settings, audience, out)
    try:
        shared = _attach_work(settings, con, directory.name)
        touched = incremental.redo(con, "pub", staging_path(settings), since, from_work=shared)
        if touched is None:
            con.close()
            _fresh(out)
            return None
        tables = _finish(con, audience, directory.name)
    except duckdb.Error as exc:  # e.g. a damaged copy: the full build does not need it
        con.close()
        _fresh(out)
        get_logger(settings).warning("%s.duckdb: the incremental build failed (%s), building in full", audience,
                                     type(exc).__name__)
        return None
    except BaseException:
        con.close()
        _fresh(out)
        raise
    con.close()
    return touched, tables


def work_path(settings: Settings, build_id: str) -> Path:
    """The evaluator's work database of a build: event-level, all shareable caveats, never published.

    Kept (need-to-know, beside the staged lake) for the published build only, so that the next
    build can redo just the touched events in a copy of it (``publish.clean_stale`` removes the rest).
    """
    return settings.warehouse / ".build" / "evaluator-work" / f"{build_id}.duckdb"


def _published_work(settings: Settings) -> Path | None:
    bid = current_build_id(settings)
    path = work_path(settings, bid) if bid else None
    return path if path and path.exists() else None


def _build_evaluator(settings: Settings, directory: Path, since: int | None) -> tuple[int | None, dict[str, int]]:
    """The evaluator file: aggregates copied out of a work database, then suppression and reports.

    The work database is a copy of the published build's with the touched events redone when it
    can be, else built in full. Building in a separate database keeps every event-level page out of
    the evaluator file (dropped tables can leave bytes).
    """
    out = directory / "evaluator.duckdb"
    work = work_path(settings, directory.name)
    _fresh(out)
    _fresh(work)
    work.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    con = _open(settings, "evaluator", out)
    touched = None
    try:
        base = _published_work(settings)
        if since is not None and base is not None:
            touched = _refresh_work(settings, con, base, work, since)
        if touched is None:
            con.execute(f"ATTACH {literal(str(work))} AS {WORK}")
            con.execute(f"USE {WORK}")
            runner.run_files(con, runner.sql_files(runner.EVALUATOR_WORK_LAYERS))
        con.execute(f"CHECKPOINT {WORK}")
        con.execute("USE pub")
        runner.copy_tables(con, runner.evaluator_copies(), WORK)
        runner.run_files(con, runner.sql_files(("90_evaluator",)))
        suppression.apply(con, SUPPRESSION_THRESHOLD)  # no withheld cell recoverable from the totals, before any report reads them
        runner.run_files(con, runner.sql_files(tuple(layer for layer in runner.EVALUATOR_LAYERS
                                                     if layer != "90_evaluator")))
        runner.copy_missing_comments(con, "pub", WORK)
        con.execute(f"DETACH {WORK}")
        tables = _finish(con, "evaluator", directory.name)
    except BaseException:
        con.close()
        _fresh(out)
        _fresh(work)
        raise
    con.close()
    work.chmod(0o600)
    return touched, tables


def _refresh_work(settings: Settings, con: duckdb.DuckDBPyConnection, base: Path, work: Path,
                  since: int) -> int | None:
    """Attach as ``WORK`` a copy of the published build's work database with the touched events redone;
    None (nothing attached, nothing left) when a dimension changed or the copy is unusable."""
    incremental.copy_file(base, work)
    try:
        con.execute(f"ATTACH {literal(str(work))} AS {WORK}")
        con.execute(f"USE {WORK}")
        touched = incremental.redo(con, WORK, staging_path(settings), since, keyed=False)
        if touched is not None:
            return touched
    except duckdb.Error as exc:
        get_logger(settings).warning("the evaluator's work database could not be refreshed (%s): building it in full",
                                     type(exc).__name__)
    con.execute("USE pub")
    con.execute(f"DETACH DATABASE IF EXISTS {WORK}")
    _fresh(work)
    return None


def _build_full(settings: Settings, audience: str, directory: Path) -> dict[str, int]:
    """An analyst file from the staged lake: keyed models are created with their keys and filled once."""
    out = directory / f"{audience}.duckdb"
    _fresh(out)
    con = _open(settings, audience, out)
    try:
        source = None
        if _attach_work(settings, con, directory.name):
            source = shared_facts.source(con, "pub")
            # the facts are filtered copies of the work build's (in date order already): a copy free to keep
            # that order only roughly runs on both cores (fact_events at 20k: 2.3 -> 1.6 s a file); ORDER BY holds
            con.execute("SET preserve_insertion_order = false")
        constraints.run_models(con, runner.sql_files(runner.AUDIENCE_LAYERS), "pub", source)
        tables = _finish(con, audience, directory.name)
    except BaseException:
        con.close()
        _fresh(out)
        raise
    con.close()
    return tables

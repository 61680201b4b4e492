"""Build the per-audience DuckDB files from the staged lake, then publish them atomically.

``build_all`` refreshes the staged copy of the lake (only changed partitions), then for
each audience writes ``IBET_HOME/warehouse/<audience>.duckdb.new`` beside the published
file, checkpoints and closes it. ``publish`` renames each candidate over the published
file (``os.replace``): an analyst already connected keeps reading the old file, the next
connection sees the new one, and nobody ever opens a half-built warehouse. A quality
gate (``gate``) can look at the candidates in between and stop the publication, which
keeps the published files untouched.

Audiences (DOMAIN.md): ``ibet`` sees REL_IBET, ``can`` REL_IBET + REL_CAN, ``usa``
REL_IBET + REL_USA; ``evaluator`` gets aggregates of every shareable caveat with small
counts suppressed. ORCON reaches no file: no audience lists it.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import polars as pl

from ibet import reference
from ibet.lake import read_json, write_json
from ibet.logs import get_logger
from ibet.registry import AGENCIES
from ibet.settings import AUDIENCES, SUPPRESSION_THRESHOLD, Settings, get_settings
from transforms.canonical import CATEGORIES
from warehouse import constraints, runner
from warehouse.staging import RefreshResult, refresh, staging_path

#: Published files are written in DuckDB's v1.5.0 storage format: DuckDB 1.5 clients (the
#: `duckdb` shell shipped in the venv, BI drivers) and 2.x read them alike.
STORAGE_VERSION = "v1.5.0"


CATEGORY_LABELS = {
    "DRUGS": ("Drugs", "RCMP DRUG, ICE NARCOTICS, CBP drug_type, seized drugs"),
    "FIREARMS": ("Firearms", "RCMP FIREARM, ICE WEAPONS, firearms seized"),
    "HUMAN_SMUGGLING": ("Human smuggling", "RCMP/ICE HUMAN_SMUGGLING, CBP groups of 3 or more"),
    "TOBACCO": ("Tobacco", "contraband tobacco"),
    "CURRENCY": ("Currency", "undeclared currency, proceeds of crime"),
    "NATSEC": ("National security", "RCMP/ICE NATSEC"),
    "ILLEGAL_ENTRY": ("Illegal entry", "illegal crossings, refusals, CBP GOTAWAY"),
    "FINANCIAL": ("Financial crime", "ICE FINANCIAL"),
    "OTHER": ("Other", "anything else (boardings, warnings, referrals)"),
}
COMMODITY_CATEGORY = {
    "COCAINE": ("DRUGS", "kg"), "METH": ("DRUGS", "kg"), "FENTANYL": ("DRUGS", "kg"), "CANNABIS": ("DRUGS", "kg"),
    "FIREARMS": ("FIREARMS", "units"), "TOBACCO": ("TOBACCO", "kg"), "CURRENCY": ("CURRENCY", "value"),
    "UNSPECIFIED": ("", "value"),
}


class BuildLockedError(RuntimeError):
    """Another build holds the warehouse lock."""


@dataclass
class AudienceBuild:
    audience: str
    candidate: Path
    published: Path
    tables: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class BuildResult:
    """What ``build_all`` produced, and whether it was published."""

    refresh: RefreshResult
    audiences: dict[str, AudienceBuild]
    published: bool = False
    skipped: bool = False  #: nothing changed since the published build
    gate_message: str = ""
    gate: dict = field(default_factory=dict)  #: the quality gate's result, when it ran
    rejected_to: str = ""  #: where a blocked build was moved
    seconds: float = 0.0

    def summary(self) -> dict:
        return {
            "published": self.published, "skipped": self.skipped, "gate": self.gate_message,
            "gate_success": self.gate.get("success"), "rejected_to": self.rejected_to,
            "changed_partitions": len(self.refresh.changed), "removed_partitions": len(self.refresh.removed),
            "staged_rows": self.refresh.rows, "seconds": round(self.seconds, 2),
            "audiences": {a: {"file": str(b.published), "tables": b.tables, "seconds": round(b.seconds, 2)}
                          for a, b in self.audiences.items()},
        }


def published_path(settings: Settings, audience: str) -> Path:
    return settings.warehouse / f"{audience}.duckdb"


def candidate_path(settings: Settings, audience: str) -> Path:
    return settings.warehouse / f"{audience}.duckdb.new"


@contextmanager
def build_lock(settings: Settings, timeout: float = 600.0) -> Iterator[None]:
    """One build at a time per IBET_HOME (the marts DAG and a manual ``ibet build`` may race)."""
    path = settings.warehouse / ".build" / "build.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise BuildLockedError(f"another build has held {path} for over {timeout:.0f} s") from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def register_reference(con: duckdb.DuckDBPyConnection, caveats: tuple[str, ...]) -> None:
    """Temporary source tables the dimension SQL reads (reference data, registry, audience)."""
    regions = reference.regions().select("region_code", "region_name", "min_lon", "max_lon", "min_lat", "max_lat",
                                         "maritime")
    agencies = pl.DataFrame([{"agency_code": a.code, "agency_name": a.name, "country": a.country,
                              "reports": a.reports, "fiscal_calendar": a.fiscal_calendar} for a in AGENCIES.values()])
    categories = pl.DataFrame([{"category": c, "label": CATEGORY_LABELS[c][0], "description": CATEGORY_LABELS[c][1]}
                               for c in CATEGORIES])
    commodities = pl.DataFrame([{"commodity": c, "category": k or None, "measured_in": m}
                                for c, (k, m) in COMMODITY_CATEGORY.items()])
    fx = pl.read_csv(reference.reference_path("fx_rates.csv"), schema_overrides={"usd_to_cad": pl.Float64})
    program = pl.read_csv(reference.reference_path("program.csv"), try_parse_dates=True,
                          schema_overrides={"total_allocation_cad": pl.Float64})
    planned = pl.read_csv(reference.reference_path("planned_results.csv"))
    tables = {"src_regions": regions, "src_agencies": agencies, "src_categories": categories,
              "src_commodities": commodities, "src_fx_rates": fx, "src_program": program,
              "src_planned_results": planned, "ibet_build_caveats": pl.DataFrame({"caveat": list(caveats)})}
    for name, df in tables.items():
        con.register(f"_{name}", df.to_arrow())
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _{name}")
        con.unregister(f"_{name}")
    con.execute(f"CREATE OR REPLACE TEMP MACRO ibet_suppression_threshold() AS {int(SUPPRESSION_THRESHOLD)}")


def _meta(con: duckdb.DuckDBPyConnection, audience: str, caveats: tuple[str, ...], refreshed: RefreshResult) -> None:
    try:
        version = metadata.version("ibet-warehouse")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        version = "dev"
    con.execute(
        "CREATE OR REPLACE TABLE meta_build AS SELECT ? AS audience, ?::VARCHAR[] AS caveats, "
        "?::TIMESTAMPTZ AS built_at, ? AS suppression_threshold, ? AS ibet_version, ?::JSON AS staged_rows",
        [audience, list(caveats), dt.datetime.now(dt.timezone.utc), SUPPRESSION_THRESHOLD if audience == "evaluator"
         else None, version, json.dumps(refreshed.rows, sort_keys=True)])
    con.execute("COMMENT ON TABLE meta_build IS 'When and how this file was built, for whom.'")
    for col, text in (("audience", "Audience this file is published for."),
                      ("caveats", "Caveats whose records this file may contain (aggregated only, for evaluator)."),
                      ("built_at", "When the build ran, UTC."),
                      ("suppression_threshold", "Counts below this are withheld (evaluator file only)."),
                      ("ibet_version", "Version of ibet-warehouse that built the file."),
                      ("staged_rows", "Rows per canonical table in the staged lake at build time (all caveats).")):
        con.execute(f"COMMENT ON COLUMN meta_build.{col} IS '{text}'")


def _table_counts(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND NOT temporary ORDER BY table_name",
        [database]).fetchall()]
    return {n: con.execute(f'SELECT count(*) FROM "{database}".main."{n}"').fetchall()[0][0] for n in names}


def _fresh(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def build_audience(settings: Settings, audience: str, refreshed: RefreshResult) -> AudienceBuild:
    """Write ``<audience>.duckdb.new`` from the staged lake; return its table sizes."""
    started = time.monotonic()
    caveats = AUDIENCES[audience]
    out = candidate_path(settings, audience)
    _fresh(out)
    con = duckdb.connect()
    work_path = settings.warehouse / ".build" / f"{audience}.work.duckdb"
    try:
        con.execute("SET TimeZone = 'UTC'")
        main_db = "pub"
        con.execute(f"ATTACH {runner.sql_literal(str(out))} AS {main_db} (STORAGE_VERSION '{STORAGE_VERSION}')")
        con.execute(f"USE {main_db}")
        con.execute(f"ATTACH '{staging_path(settings)}' AS staged (READ_ONLY)")
        register_reference(con, caveats)
        if audience == "evaluator":
            # The full build happens in a scratch database, so that no event-level page
            # is ever written into the evaluator file (dropped tables can leave bytes).
            _fresh(work_path)
            con.execute(f"ATTACH '{work_path}' AS work")
            con.execute("USE work")
            runner.run_files(con, runner.sql_files(runner.EVALUATOR_WORK_LAYERS))
            con.execute(f"USE {main_db}")
            runner.run_files(con, runner.sql_files(runner.EVALUATOR_LAYERS))
            runner.copy_missing_comments(con, main_db, "work")
            con.execute("DETACH work")
        else:
            runner.run_files(con, runner.sql_files(runner.AUDIENCE_LAYERS))
        constraints.apply(con, main_db)
        _meta(con, audience, caveats, refreshed)
        con.execute("DETACH staged")
        tables = _table_counts(con, main_db)
        con.execute(f"CHECKPOINT {main_db}")
    except BaseException:
        con.close()
        _fresh(out)
        raise
    finally:
        _fresh(work_path)
    con.close()
    return AudienceBuild(audience, out, published_path(settings, audience), tables, time.monotonic() - started)


def publish(builds: dict[str, AudienceBuild], settings: Settings) -> None:
    """Rename every candidate over its published file (atomic per file)."""
    log = get_logger(settings)
    for b in builds.values():
        b.candidate.with_name(b.candidate.name + ".wal").unlink(missing_ok=True)
        os.replace(b.candidate, b.published)
        log.info("published %s (%s)", b.published.name,
                 ", ".join(f"{t}={n}" for t, n in b.tables.items() if t.startswith(("fact_", "mart_"))))


def _state_path(settings: Settings) -> Path:
    return settings.warehouse / ".build" / "published.json"


def build_fingerprint(refreshed: RefreshResult) -> str:
    """Digest of the staged data, the reference data and the mart SQL: what a build depends on."""
    h = hashlib.sha256(refreshed.fingerprint.encode())
    paths = [reference.reference_path(n) for n in ("regions.csv", "unit_regions.csv", "fx_rates.csv", "program.csv",
                                                    "planned_results.csv")]
    paths += runner.sql_files(runner.AUDIENCE_LAYERS + ("90_evaluator",)) + [constraints.constraints_file()]
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    h.update(str(SUPPRESSION_THRESHOLD).encode())
    return h.hexdigest()


def _up_to_date(settings: Settings, fingerprint: str, audiences: tuple[str, ...]) -> bool:
    state = read_json(_state_path(settings)) or {}
    return state.get("fingerprint") == fingerprint and all(
        published_path(settings, a).exists() and a in state.get("audiences", []) for a in audiences)


def _candidate_state(settings: Settings) -> Path:
    return settings.warehouse / ".build" / "candidate.json"


def build_candidates(settings: Settings | None = None, full: bool = False, force: bool = False,
                     audiences: tuple[str, ...] = tuple(AUDIENCES),
                     progress: Callable[[str], None] | None = None) -> BuildResult:
    """Refresh staging and write every ``<audience>.duckdb.new``; nothing is published yet.

    Skips (``result.skipped``) when nothing in the lake, the reference data or the SQL
    changed since the published files were written, unless ``force``.
    """
    settings = (settings or get_settings()).ensure()
    say = progress or (lambda _m: None)
    started = time.monotonic()
    log = get_logger(settings)
    with build_lock(settings):
        say("refreshing the staged lake")
        refreshed = refresh(settings, full=full)
        log.info("staging refresh: full=%s changed=%d removed=%d rows=%s", refreshed.full, len(refreshed.changed),
                 len(refreshed.removed), refreshed.rows)
        result = BuildResult(refresh=refreshed, audiences={})
        fingerprint = build_fingerprint(refreshed)
        if not force and _up_to_date(settings, fingerprint, audiences):
            result.skipped = True
            result.audiences = {a: AudienceBuild(a, candidate_path(settings, a), published_path(settings, a))
                                for a in audiences}
        else:
            for audience in audiences:
                say(f"building {audience}.duckdb")
                result.audiences[audience] = build_audience(settings, audience, refreshed)
            write_json(_candidate_state(settings), {
                "fingerprint": fingerprint, "audiences": sorted(result.audiences),
                "agency_events": refreshed.agency_events,
                "built_at": dt.datetime.now(dt.timezone.utc).isoformat(),
                "tables": {a: b.tables for a, b in result.audiences.items()}})
        result.seconds = time.monotonic() - started
        return result


def candidates(settings: Settings) -> dict[str, AudienceBuild]:
    """The built, unpublished audience files (empty when there are none)."""
    state = read_json(_candidate_state(settings)) or {}
    out = {}
    for a in state.get("audiences", []):
        if candidate_path(settings, a).exists():
            out[a] = AudienceBuild(a, candidate_path(settings, a), published_path(settings, a),
                                   state.get("tables", {}).get(a, {}))
    return out


def publish_candidates(settings: Settings | None = None) -> list[Path]:
    """Publish the candidates ``build_candidates`` left (all of them, or none if any is missing)."""
    settings = settings or get_settings()
    with build_lock(settings):
        state = read_json(_candidate_state(settings))
        if not state:
            raise FileNotFoundError("no unpublished build: run the build first")
        builds = candidates(settings)
        missing = sorted(set(state["audiences"]) - set(builds))
        if missing:
            raise FileNotFoundError(f"unpublished build is incomplete, missing: {', '.join(missing)}")
        publish(builds, settings)
        write_json(_state_path(settings), {"fingerprint": state["fingerprint"], "audiences": state["audiences"],
                                           "agency_events": state.get("agency_events", {}),
                                           "published_at": dt.datetime.now(dt.timezone.utc).isoformat()})
        _candidate_state(settings).unlink(missing_ok=True)
    from warehouse.dictionary import refresh_after_publish

    refresh_after_publish(settings)
    return [b.published for b in builds.values()]


def gate_and_publish(settings: Settings, result: BuildResult, publish_files: bool = True) -> BuildResult:
    """Audit the candidates with the quality gate; publish them, or move them aside when blocked."""
    from warehouse.quality.gate import reject, run_gate, write_history_into

    files = {a: b.candidate for a, b in result.audiences.items()}
    gate = run_gate(settings, files)
    result.gate = gate.to_dict()
    result.gate_message = gate.message()
    if not gate.success:
        result.rejected_to = str(reject(settings, files, gate))
        _candidate_state(settings).unlink(missing_ok=True)
        return result
    write_history_into(list(files.values()), settings)
    if publish_files:
        publish_candidates(settings)
        result.published = True
    return result


def build_all(settings: Settings | None = None, full: bool = False, publish_files: bool = True,
              gate: bool = True, force: bool = False, audiences: tuple[str, ...] = tuple(AUDIENCES),
              progress: Callable[[str], None] | None = None) -> BuildResult:
    """Build candidates, run the quality gate on them, publish: ``ibet build`` in one call.

    ``gate=False`` publishes without auditing (tests of the marts themselves use it).
    """
    settings = (settings or get_settings()).ensure()
    say = progress or (lambda _m: None)
    started = time.monotonic()
    result = build_candidates(settings, full=full, force=force, audiences=audiences, progress=progress)
    if result.skipped:
        return result
    if gate:
        say("running the quality gate (Great Expectations)")
        gate_and_publish(settings, result, publish_files=publish_files)
    elif publish_files:
        say("publishing")
        publish_candidates(settings)
        result.published = True
    result.seconds = time.monotonic() - started
    return result

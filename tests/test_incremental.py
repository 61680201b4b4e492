"""An incremental build (the published files copied, only the touched events redone) equals a full one."""
from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import duckdb

from foundation.registry import source_for
from foundation.settings import AUDIENCES
from ibet.generator import generate
from ibet.ingest import ingest_file
from tests.conftest import inbox_files
from warehouse import incremental as refresh_module
from warehouse import shared_facts
from warehouse.build import build_all, incremental_since
from warehouse.staging import RefreshResult, latest_sql, staging_path

ANALYSTS = [a for a in AUDIENCES if a != "evaluator"]


def _ingest_days(settings, inbox: Path, days: set[str], program: bool = False) -> int:
    """Ingest the inbox's files of ``days`` (ISO dates), and the program files (keyed by year) with ``program``."""
    n = 0
    for agency, f in inbox_files(inbox):
        key = source_for(agency, f.name)[1]
        if key in days or (program and agency == "program"):
            ingest_file(agency, f, settings=settings)
            n += 1
    return n


def _rows(con: duckdb.DuckDBPyConnection, db: str, table: str) -> str:
    """The table's rows as a query, doubles rounded (sums over rows in another order may differ in the last bit)."""
    cols = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND table_name = ? "
                       "ORDER BY column_index", [db, table]).fetchall()
    exprs = [f'round("{c}", 6)' if t in ("DOUBLE", "FLOAT") else f'"{c}"' for c, t in cols]
    return f'SELECT {", ".join(exprs)} FROM "{db}".main."{table}"'


def assert_same_tables(a: Path, b: Path) -> dict[str, int]:
    """Every table of ``a`` and ``b`` (but the build's own metadata) has the same columns and the same rows."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    tables = {db: {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ?",
                                               [db]).fetchall()} for db in ("a", "b")}
    assert tables["a"] - {"meta_quality_history"} == tables["b"] - {"meta_quality_history"}
    sizes = {}
    for t in sorted(tables["a"] - {"meta_build", "meta_quality_history"}):  # when and by which gate: not the data
        assert _rows(con, "a", t).replace('"a"', "") == _rows(con, "b", t).replace('"b"', ""), t  # same columns
        diff = con.execute(f"SELECT (SELECT count(*) FROM ({_rows(con, 'a', t)} EXCEPT ALL {_rows(con, 'b', t)})), "
                           f"(SELECT count(*) FROM ({_rows(con, 'b', t)} EXCEPT ALL {_rows(con, 'a', t)})), "
                           f"(SELECT count(*) FROM a.main.\"{t}\")").fetchall()[0]
        assert diff[:2] == (0, 0), (t, diff)
        sizes[t] = diff[2]
    keys = {db: sorted(con.execute("SELECT table_name, constraint_type, constraint_column_names FROM "
                                   "duckdb_constraints() WHERE database_name = ? AND constraint_type IN "
                                   "('PRIMARY KEY', 'FOREIGN KEY')", [db]).fetchall()) for db in ("a", "b")}
    assert keys["a"] == keys["b"] and keys["a"]  # the copy keeps every declared key
    con.close()
    return sizes


def _kept(result, where: Path) -> dict[str, Path]:
    where.mkdir()
    out = {}
    for a, b in result.audiences.items():
        out[a] = where / f"{a}.duckdb"
        shutil.copyfile(b.candidate, out[a])
    return out


def test_a_day_added_and_a_day_corrected_give_the_files_a_full_build_gives(home, tmp_path, monkeypatch):
    copied = []  # the fact tables analyst files read from the evaluator's work build instead of computing them
    real_query = shared_facts.query
    monkeypatch.setattr(shared_facts, "query", lambda con, db, table, touched=False: copied.append((table, touched))
                        or real_query(con, db, table, touched))
    refreshed = []  # marts refreshed in place by key (refresh_by): which, and how many keys
    real_refresh = refresh_module._refresh_by_key
    monkeypatch.setattr(refresh_module, "_refresh_by_key", lambda con, db, table, query, spec: refreshed.append(
        (db, table, real_refresh(con, db, table, query, spec))) or refreshed[-1][2])
    generate(home.inbox, dt.date(2026, 11, 2), 3, 150, seed=5, dirty_rate=0.05)
    assert _ingest_days(home, home.inbox, {"2026-11-02", "2026-11-03"}, program=True)
    first = build_all(home, gate=False)
    assert first.published and all(b.touched_events is None for b in first.audiences.values())

    assert _ingest_days(home, home.inbox, {"2026-11-04"})
    # a corrected re-send of the first day: RCMP's file without its last ten records
    rcmp = next(f for a, f in inbox_files(home.inbox) if a == "rcmp" and source_for(a, f.name)[1] == "2026-11-02")
    lines = rcmp.read_bytes().splitlines(keepends=True)
    corrected = home.inbox / "corrected" / rcmp.name
    corrected.parent.mkdir()
    corrected.write_bytes(b"".join(lines[:-10]))
    ingest_file("rcmp", corrected, settings=home)

    second = build_all(home, gate=False)
    assert second.published
    # the latest version of each event, kept in step by the refreshes, is what ranking every staged version gives
    con = duckdb.connect(str(staging_path(home)), read_only=True)
    kept = "SELECT * FROM stg_latest"
    assert con.execute(f"SELECT (SELECT count(*) FROM ({kept} EXCEPT ALL {latest_sql()})), "
                       f"(SELECT count(*) FROM ({latest_sql()} EXCEPT ALL {kept}))").fetchall() == [(0, 0)]
    assert con.execute("SELECT count(*) FILTER (WHERE versions > 1) > 0, count(DISTINCT event_uid) = count(*) "
                       "FROM stg_latest").fetchall() == [(True, True)]  # ICE's re-sent cases: versions to choose from
    con.close()
    redone = {a: b.touched_events for a, b in second.audiences.items()}
    assert ("fact_seizures", True) in copied and ("fact_finance", False) in copied  # facts copied from work
    # the cross-agency links were refreshed by key in the work database and the three analyst files,
    # not rebuilt; the full build below must give the same rows
    assert sorted(db for db, t, n in refreshed if t == "mart_cross_agency_links" and n > 0) == ["pub"] * 3 + ["work"]
    assert all(redone[a] and redone[a] > 0 for a in AUDIENCES), redone  # the evaluator's work database too
    work = sorted(p.name for p in (home.warehouse / ".build" / "evaluator-work").iterdir())
    assert work == [f"{first.build_id}.duckdb", f"{second.build_id}.duckdb"]  # the published one and the new one
    incremental = _kept(second, tmp_path / "incremental")

    copied.clear()
    full = build_all(home, gate=False, full=True, force=True)
    assert all(b.touched_events is None for b in full.audiences.values())
    assert {t for t, _ in copied} >= {"fact_events", "fact_subject_sightings", "fact_conveyance_sightings"}
    work = sorted(p.name for p in (home.warehouse / ".build" / "evaluator-work").iterdir())
    assert work == [f"{second.build_id}.duckdb", f"{full.build_id}.duckdb"]  # older ones removed
    # analyst files alone: no work build to copy from, the facts' SQL runs over the staged lake; same rows
    copied.clear()
    alone = build_all(home, gate=False, full=True, force=True, publish_files=False, audiences=tuple(ANALYSTS))
    assert not copied
    for a in ANALYSTS:
        assert_same_tables(alone.audiences[a].candidate, full.audiences[a].candidate)
    for a in AUDIENCES:
        sizes = assert_same_tables(incremental[a], full.audiences[a].candidate)
        if a != "evaluator":
            assert sizes["fact_events"] > 0 and sizes["mart_activity_weekly"] > 0
    # the corrected day's missing records are gone from the incremental files too
    con = duckdb.connect(str(incremental["ibet"]), read_only=True)
    days = dict(con.execute("SELECT extract_date, count(*) FROM fact_events WHERE agency_code = 'rcmp' "
                            "GROUP BY ALL").fetchall())
    con.close()
    assert days[dt.date(2026, 11, 2)] < days[dt.date(2026, 11, 3)]


def test_a_new_fiscal_year_rebuilds_in_full_and_gives_the_same_files(home, tmp_path):
    generate(home.inbox, dt.date(2027, 3, 31), 2, 120, seed=8, dirty_rate=0.0)
    assert _ingest_days(home, home.inbox, {"2027-03-31"})  # no finance file: only the events span the years
    assert build_all(home, gate=False).published
    assert _ingest_days(home, home.inbox, {"2027-04-01"})
    second = build_all(home, gate=False)  # dim_date grows by a Canadian fiscal year: no incremental path
    assert all(b.touched_events is None for b in second.audiences.values())
    kept = _kept(second, tmp_path / "second")
    full = build_all(home, gate=False, full=True, force=True)
    for a in ANALYSTS:
        assert_same_tables(kept[a], full.audiences[a].candidate)


def test_incremental_only_from_the_same_staged_copy_and_the_same_logic():
    refreshed = RefreshResult(full=False, epoch="e1", sequence=9)
    base = {"state": "published", "logic_fingerprint": "L", "staging_epoch": "e1", "staging_sequence": 7}
    assert incremental_since(base, refreshed, "L") == 7
    assert incremental_since({**base, "logic_fingerprint": "other"}, refreshed, "L") is None  # SQL changed
    assert incremental_since({**base, "staging_epoch": "e0"}, refreshed, "L") is None  # staged copy reloaded
    assert incremental_since({**base, "staging_sequence": 12}, refreshed, "L") is None  # a log it cannot have
    assert incremental_since({}, refreshed, "L") is None  # nothing published
    assert incremental_since({**base, "state": "audited"}, refreshed, "L") is None  # never the base of a build


def test_a_damaged_work_database_or_published_file_only_costs_a_full_build(home, tmp_path):
    generate(home.inbox, dt.date(2026, 11, 2), 2, 60, seed=4, dirty_rate=0.0)
    assert _ingest_days(home, home.inbox, {"2026-11-02"}, program=True)
    first = build_all(home, gate=False)
    work = home.warehouse / ".build" / "evaluator-work" / f"{first.build_id}.duckdb"
    with open(work, "r+b") as fh:  # the evaluator's work database cut in half
        fh.truncate(work.stat().st_size // 2)
    assert _ingest_days(home, home.inbox, {"2026-11-03"})
    second = build_all(home, gate=True)
    assert second.published and second.gate["success"], second.gate_message
    redone = {a: b.touched_events for a, b in second.audiences.items()}
    assert redone["evaluator"] is None and all(redone[a] for a in ANALYSTS), redone
    kept = _kept(second, tmp_path / "second")
    full = build_all(home, gate=False, full=True, force=True)
    assert_same_tables(kept["evaluator"], full.audiences["evaluator"].candidate)


def test_a_day_an_audience_may_not_see_leaves_its_file_as_published(home, tmp_path, monkeypatch):
    """Only the audiences a change touches are redone: a day of CBP records all marked REL_USA touches
    neither ibet's file nor can's; they are the published files as they stand, which a full build confirms."""
    generate(home.inbox, dt.date(2026, 11, 2), 2, 150, seed=7, dirty_rate=0.0)
    assert _ingest_days(home, home.inbox, {"2026-11-02"}, program=True)
    assert build_all(home, gate=False).published
    cbp = next(f for a, f in inbox_files(home.inbox) if a == "cbp" and source_for(a, f.name)[1] == "2026-11-03")
    with cbp.open(newline="", encoding="utf-8") as f:  # records, not lines: remarks hold line breaks
        header, *records = list(csv.reader(f, delimiter="|"))
    usa_only = [r for r in records if r[-1] == "REL_USA"]
    assert 0 < len(usa_only) < len(records) and header[-1] == "release"
    (tmp_path / "inbox").mkdir()
    with (tmp_path / "inbox" / cbp.name).open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter="|", lineterminator="\n").writerows([header, *usa_only])
    ingest_file("cbp", tmp_path / "inbox" / cbp.name, settings=home)

    redone = []  # the databases whose facts were redone
    real = refresh_module.refresh_facts
    monkeypatch.setattr(refresh_module, "refresh_facts",
                        lambda con, db, *args, **kw: redone.append(db) or real(con, db, *args, **kw))
    second = build_all(home, gate=False)
    touched = {a: b.touched_events for a, b in second.audiences.items()}
    assert touched["ibet"] == 0 and touched["can"] == 0, touched
    assert touched["usa"] == touched["evaluator"] > 0, touched  # the file's events
    assert sorted(redone) == ["pub", "work"]  # usa.duckdb and the evaluator's work database only
    incremental = _kept(second, tmp_path / "incremental")
    full = build_all(home, gate=False, full=True, force=True)
    for a in AUDIENCES:
        assert_same_tables(incremental[a], full.audiences[a].candidate)


def test_indicators_redo_only_the_fiscal_years_a_day_touches(home, tmp_path, monkeypatch):
    """A warehouse over two Canadian fiscal years gets a day of the later one: mart_indicators keeps the
    earlier year's rows as they were (its facts are not even read) and recomputes the touched years, in
    every analyst file and the evaluator's work database; the files equal a full build's."""
    keys = []  # (database, the (calendar, fiscal year)s mart_indicators was refreshed for)
    real = refresh_module._refresh_by_key

    def spy(con, db, table, query, spec):
        if table == "mart_indicators":
            keys.append((db, set(con.execute(f"SELECT * FROM {refresh_module.KEYS_PREFIX}{table}").fetchall())))
        return real(con, db, table, query, spec)

    monkeypatch.setattr(refresh_module, "_refresh_by_key", spy)
    generate(home.inbox, dt.date(2027, 3, 31), 3, 120, seed=8, dirty_rate=0.0)
    assert _ingest_days(home, home.inbox, {"2027-03-31", "2027-04-01"})  # both Canadian years in dim_date
    first = build_all(home, gate=False)
    con = duckdb.connect(str(first.audiences["ibet"].candidate), read_only=True)
    years = set(con.execute("SELECT DISTINCT calendar, fiscal_year FROM mart_indicators").fetchall())
    con.close()
    assert {("CAN", "2026-27"), ("CAN", "2027-28"), ("USA", "FY2027")} <= years

    # the day's RCMP file, its records of events in the later year only (a day's file also reports earlier
    # days' events) and with no subject: no person becomes linked across agencies (or stops being), which
    # would touch every year that person was seen in
    rcmp = next(f for a, f in inbox_files(home.inbox) if a == "rcmp" and source_for(a, f.name)[1] == "2027-04-02")
    with rcmp.open(newline="", encoding="utf-8-sig") as f:  # the ICD's BOM; narratives hold line breaks
        header, *records = list(csv.reader(f))
    at = header.index("reported_local")  # local time, behind UTC: a local April day is an April day in UTC
    records = [r for r in records if r[at][:10] >= "2027-04-01"]
    assert records
    subject = [header.index(c) for c in header if c.startswith("subject_")]
    (tmp_path / "inbox").mkdir()
    with (tmp_path / "inbox" / rcmp.name).open("w", newline="", encoding="utf-8-sig") as f:
        csv.writer(f, lineterminator="\r\n").writerows([header, *([("" if i in subject else v)
                                                                    for i, v in enumerate(r)] for r in records)])
    assert ingest_file("rcmp", tmp_path / "inbox" / rcmp.name, settings=home).rows_loaded == len(records)
    second = build_all(home, gate=False)
    assert all(b.touched_events for b in second.audiences.values())  # incremental, not a full build
    assert sorted(db for db, _ in keys) == ["pub"] * 3 + ["work"]
    for _, refreshed in keys:
        assert {("CAN", "2027-28"), ("USA", "FY2027")} <= refreshed  # the day's years, in both calendars
        assert ("CAN", "2026-27") not in refreshed  # the earlier year is kept
    incremental = _kept(second, tmp_path / "incremental")
    full = build_all(home, gate=False, full=True, force=True)
    for a in AUDIENCES:
        sizes = assert_same_tables(incremental[a], full.audiences[a].candidate)
        assert sizes["mart_indicators"] > 0


def test_a_changed_finance_file_redoes_the_indicators_of_its_years(home, tmp_path, monkeypatch):
    """Program facts have no event: a corrected finance file touches the indicators of its Canadian fiscal
    year (and of the US years that overlap it) through the comparison with what the build held before."""
    keys = []
    real = refresh_module._refresh_by_key

    def spy(con, db, table, query, spec):
        if table == "mart_indicators":
            keys.append(set(con.execute(f"SELECT * FROM {refresh_module.KEYS_PREFIX}{table}").fetchall()))
        return real(con, db, table, query, spec)

    monkeypatch.setattr(refresh_module, "_refresh_by_key", spy)
    generate(home.inbox, dt.date(2026, 11, 2), 2, 100, seed=3, dirty_rate=0.0)
    assert _ingest_days(home, home.inbox, {"2026-11-02"}, program=True)
    assert build_all(home, gate=False).published
    finance = next(f for a, f in inbox_files(home.inbox) if a == "program" and f.name == "finance_2026-27.csv")
    header, *lines = finance.read_text(encoding="utf-8").splitlines()
    cells = lines[0].split(",")
    at = header.split(",").index("actual_spending")
    cells[at] = str(int(cells[at]) + 1000)
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / finance.name).write_text("\n".join([header, ",".join(cells), *lines[1:]]) + "\n",
                                                    encoding="utf-8")
    ingest_file("program", tmp_path / "inbox" / finance.name, settings=home)
    second = build_all(home, gate=False)
    assert keys and all({("CAN", "2026-27"), ("USA", "FY2026"), ("USA", "FY2027")} <= k for k in keys), keys
    incremental = _kept(second, tmp_path / "incremental")
    full = build_all(home, gate=False, full=True, force=True)
    for a in AUDIENCES:
        assert_same_tables(incremental[a], full.audiences[a].candidate)


def test_a_staged_copy_from_before_the_latest_versions_gets_them_whole(home):
    """A staged file made before ``stg_latest`` existed, or before one of its columns did, is given the table
    whole at the next refresh (nothing touched: the refresh alone would not fill it)."""
    from warehouse.staging import refresh

    generate(home.inbox, dt.date(2026, 11, 2), 2, 60, seed=9, dirty_rate=0.0)
    assert _ingest_days(home, home.inbox, {"2026-11-02", "2026-11-03"})
    refresh(home)
    for damage in ("DROP TABLE stg_latest", "ALTER TABLE stg_latest DROP COLUMN caveat"):
        con = duckdb.connect(str(staging_path(home)))
        con.execute(damage)
        con.close()
        assert not refresh(home).changed  # the lake did not change
        con = duckdb.connect(str(staging_path(home)), read_only=True)
        kept = "SELECT * FROM stg_latest"
        assert con.execute(f"SELECT (SELECT count(*) FROM ({kept} EXCEPT ALL {latest_sql()})), "
                           f"(SELECT count(*) FROM ({latest_sql()} EXCEPT ALL {kept})), "
                           "(SELECT count(*) FROM stg_latest)").fetchall()[0][:2] == (0, 0)
        assert con.execute("SELECT count(*) FROM stg_latest").fetchall()[0][0] > 0
        con.close()

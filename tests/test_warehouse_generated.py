"""The warehouse on generated data: leakage, linkage against ground truth, incremental = full,
publishing under a reader, and the analyst/evaluator commands."""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections import defaultdict

import duckdb
import polars as pl
from typer.testing import CliRunner

from ibet.cli import app
from foundation.exports import safe_cell
from ibet.generator import generate
from ibet.ingest import ingest_file
from foundation.registry import source_for
from foundation.settings import AUDIENCES
from tests.conftest import flat, inbox_files
from tests.leakscan import leaks
from transforms.canonical import PSEUDONYM_COLUMNS
from warehouse.build import build_all, published_path

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _cli(settings, *args: str):
    return CliRunner().invoke(app, list(args), env={"IBET_HOME": str(settings.home)}, catch_exceptions=False)


def test_no_raw_identifier_in_any_warehouse_file(published):
    s = published["settings"]
    files = sorted(p.name for p in s.warehouse.glob("*.duckdb"))
    assert files == sorted(f"{a}.duckdb" for a in AUDIENCES)
    assert leaks(s.warehouse, published["truth"]) == []


def test_pseudonym_columns_hold_only_hmacs(published):
    s = published["settings"]
    for audience in AUDIENCES:
        con = duckdb.connect(str(published_path(s, audience)), read_only=True)
        cols = con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE column_name IN "
                           f"({', '.join(repr(c) for c in (*PSEUDONYM_COLUMNS, 'pseudonym'))})").fetchall()
        for t, c in cols:
            values = [v for (v,) in con.execute(f"SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL").fetchall()]
            assert values and all(HEX64.match(v) for v in values), (audience, t, c)
        con.close()


def test_orcon_and_foreign_caveats_stay_out(published):
    s = published["settings"]
    ev = pl.read_parquet(s.lake / "events" / "*" / "*" / "*.parquet", hive_partitioning=True)
    latest = ev.sort("extract_date").group_by("event_uid").last()
    by_caveat = {c: set(latest.filter(pl.col("caveat") == c)["event_uid"]) for c in ("REL_IBET", "REL_CAN",
                                                                                        "REL_USA", "ORCON")}
    assert all(by_caveat.values()), "the generator should send every caveat"
    # DOMAIN.md, releasability, written out (not read from the settings under test)
    domain = {"ibet": {"REL_IBET"}, "can": {"REL_IBET", "REL_CAN"}, "usa": {"REL_IBET", "REL_USA"}}
    for audience, visible in domain.items():
        con = duckdb.connect(str(published_path(s, audience)), read_only=True)
        uids = {u for (u,) in con.execute("SELECT event_uid FROM fact_events").fetchall()}
        con.close()
        assert uids == set().union(*(by_caveat[c] for c in visible)), audience
        assert not uids & by_caveat["ORCON"]


def test_cross_agency_links_recover_ground_truth(published):
    s, truth = published["settings"], published["truth"]
    ev = pl.read_parquet(s.lake / "events" / "*" / "*" / "*.parquet", hive_partitioning=True)
    latest = {uid: (str(d), c) for uid, d, c in ev.sort("extract_date").group_by("event_uid").last()
              .select("event_uid", "extract_date", "caveat").iter_rows()}
    sightings: dict[int, set[str]] = defaultdict(set)
    for f in truth["files"]:
        day = source_for(f["agency"], f["file"])[1]
        for sid, _seq, pid in f.get("subjects", []):
            if latest.get(f"{f['agency']}:{sid}") == (day, "REL_IBET"):
                sightings[pid].add(f["agency"])
    expected = {p for p, ags in sightings.items() if len(ags) >= 2}
    subjects = pl.read_parquet(s.lake / "subjects" / "*" / "*" / "*.parquet", hive_partitioning=True)
    key_of = {}
    lookup = {(uid, str(d), seq): k for uid, d, seq, k in subjects.select(
        "event_uid", "extract_date", "subject_seq", "person_key").iter_rows()}
    for f in truth["files"]:
        day = source_for(f["agency"], f["file"])[1]
        for sid, seq, pid in f.get("subjects", []):
            key_of[pid] = lookup[(f"{f['agency']}:{sid}", day, seq)]
    con = duckdb.connect(str(published_path(s, "ibet")), read_only=True)
    links = {k for (k,) in con.execute("SELECT pseudonym FROM mart_cross_agency_links WHERE link_type = 'person'")
             .fetchall()}
    con.close()
    true_pos = {key_of[p] for p in expected} & links
    precision = len(true_pos) / len(links)
    recall = len(true_pos) / len(expected)
    print(f"\ncross-agency person links (ibet file): {len(links)} found, {len(expected)} in ground truth, "
          f"precision {precision:.3f}, recall {recall:.3f}")
    assert len(expected) >= 20
    assert precision == 1.0 and recall == 1.0


def _snapshot(path) -> dict[str, list]:
    def norm(v):
        return round(v, 6) if isinstance(v, float) else v
    con = duckdb.connect(str(path), read_only=True)
    out = {}
    for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name <> 'meta_build'").fetchall():
        out[t] = sorted((tuple(norm(v) for v in r) for r in con.execute(f"SELECT * FROM {t}").fetchall()),
                        key=repr)
    con.close()
    return out


def test_incremental_build_equals_full_rebuild(home):
    generate(home.inbox, dt.date(2026, 11, 2), 2, 60, seed=5, dirty_rate=0.02)
    files = inbox_files(home.inbox)
    first = [(a, f) for a, f in files if source_for(a, f.name)[1] in ("2026-11-02", "2006-07", "2026-27")]
    second = [(a, f) for a, f in files if (a, f) not in first]
    assert first and second
    for a, f in first:
        ingest_file(a, f, settings=home)
    r1 = build_all(home, gate=False)
    assert r1.published and r1.refresh.full is False and r1.refresh.changed
    for a, f in second:
        ingest_file(a, f, settings=home)
    r2 = build_all(home, gate=False)
    assert r2.published and r2.refresh.changed
    assert all("2026-11-03" in p for p in r2.refresh.changed), "only the new day should be re-staged"
    assert build_all(home, gate=False).skipped, "nothing changed: the build should be skipped"
    incremental = {a: _snapshot(published_path(home, a)) for a in AUDIENCES}
    r3 = build_all(home, full=True, force=True, gate=False)
    assert r3.refresh.full and len(r3.refresh.changed) > len(r2.refresh.changed)
    for a in AUDIENCES:
        assert _snapshot(published_path(home, a)) == incremental[a], a


READER = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT CAST(built_at AS VARCHAR) FROM meta_build").fetchall()[0][0], flush=True)
sys.stdin.readline()  # the file is republished meanwhile; only now are the other tables read
tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
print(json.dumps({t: list(con.execute(f'SELECT count(*), CAST(sum(hash(x)) AS VARCHAR) FROM "{t}" AS x').fetchall()[0])
                  for t in tables}), flush=True)
"""


def _counts(path) -> dict[str, list]:
    """Rows and a checksum of every value, per table: reading them touches every data block."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: list(con.execute(f'SELECT count(*), CAST(sum(hash(x)) AS VARCHAR) FROM "{t}" AS x').fetchall()[0])
                for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()}
    finally:
        con.close()


def test_publish_under_a_connected_reader_that_reads_after_the_switch(home):
    """A reader connected before a publication keeps reading the old file, even tables it had not touched
    yet (nothing cached): the switch is a rename, never a write into the file it has open."""
    generate(home.inbox, dt.date(2026, 11, 2), 2, 40, seed=21, dirty_rate=0.0)
    files = inbox_files(home.inbox)
    for a, f in files:
        if source_for(a, f.name)[1] != "2026-11-03":
            ingest_file(a, f, settings=home)
    assert build_all(home, gate=False).published
    path = published_path(home, "ibet")
    old = _counts(path)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        built = reader.stdout.readline().strip()
        assert built, reader.stderr.read()
        for a, f in files:  # the second day arrives and is published while the reader is connected
            if source_for(a, f.name)[1] == "2026-11-03":
                ingest_file(a, f, settings=home)
        assert build_all(home, gate=False).published
        reader.stdin.write("\n")
        reader.stdin.flush()
        seen = reader.stdout.readline().strip()
        assert reader.wait(timeout=60) == 0, reader.stderr.read()
    finally:
        reader.kill()
    assert json.loads(seen) == old, "the connected reader must see the old build, whole"
    new = _counts(path)
    assert new["fact_events"][0] > old["fact_events"][0], "a new connection sees the new build"


def test_sql_command_formats_and_read_only(published):
    s = published["settings"]
    r = _cli(s, "sql", "SELECT caveat, count(*) AS n FROM fact_events GROUP BY 1 ORDER BY 1", "--format", "json")
    assert r.exit_code == 0
    assert [row["caveat"] for row in json.loads(r.stdout)] == ["REL_IBET"]
    r = _cli(s, "sql", "-a", "can", "SELECT caveat FROM fact_events GROUP BY 1 ORDER BY 1", "-f", "csv")
    assert r.stdout.split() == ["caveat", "REL_CAN", "REL_IBET"]
    r = _cli(s, "sql", "CREATE TABLE x AS SELECT 1")
    assert r.exit_code == 1 and "query failed" in r.stderr
    r = _cli(s, "sql", f"ATTACH '{s.warehouse / '.build' / 'staging.duckdb'}' AS s")
    assert r.exit_code == 1
    r = _cli(s, "sql", "-a", "nobody", "SELECT 1")
    assert r.exit_code == 2 and "'nobody' is not one of 'ibet', 'can', 'usa'" in flat(r.stderr)  # the choices are listed


def test_exports_are_safe_against_formula_injection(published, tmp_path):
    s = published["settings"]
    assert safe_cell("=1+2") == "'=1+2" and safe_cell("@SUM(A1)") == "'@SUM(A1)" and safe_cell(-3) == -3
    # spreadsheets trim leading blanks before reading a formula: those are neutralized too
    for sneaky in (" =1+2", "\t=1+2", "  \t@SUM(A1)", "\u00a0+1", "\r\n-2+3"):
        assert safe_cell(sneaky) == "'" + sneaky, repr(sneaky)
    assert safe_cell(" plain text") == " plain text" and safe_cell("a=b") == "a=b"
    query = "SELECT '=HYPERLINK(\"http://x\",\"y\")' AS evil, '+1' AS plus, -3 AS n, 'ok' AS fine"
    r = _cli(s, "sql", query, "-f", "csv")
    assert r.stdout.splitlines()[1] == "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+1,-3,ok"
    out = tmp_path / "x.xlsx"
    r = _cli(s, "sql", query, "-f", "xlsx", "-o", str(out))
    assert r.exit_code == 0
    from openpyxl import load_workbook

    ws = load_workbook(out).active
    row = [c for c in ws[2]]
    assert row[0].value.startswith("'=") and row[0].data_type == "s"
    assert row[1].value == "'+1" and row[2].value == -3 and row[3].value == "ok"


def test_indicators_command(published, tmp_path):
    s = published["settings"]
    r = _cli(s, "indicators", "--fiscal-year", "2026-27", "--format", "json")
    assert r.exit_code == 0, r.stderr
    rows = {(x["indicator"], x["detail"]): x for x in json.loads(r.stdout)}
    events = rows[("events_reported", "")]
    assert events["ALL"] == sum(events[a] for a in ("rcmp", "cbsa", "cbp", "ice", "uscg"))
    r_us = _cli(s, "indicators", "--fiscal-year", "FY2027", "--format", "json")
    assert {(x["indicator"], x["detail"]): x for x in json.loads(r_us.stdout)}[("events_reported", "")]["ALL"] \
        == events["ALL"]  # November 2026 lies in both 2026-27 and FY2027
    for fmt in ("csv", "md", "table"):
        assert _cli(s, "indicators", "-y", "2026-27", "-f", fmt).exit_code == 0
    out = tmp_path / "ind.xlsx"
    assert _cli(s, "indicators", "-y", "2026-27", "-f", "xlsx", "-o", str(out)).exit_code == 0 and out.stat().st_size
    bad = _cli(s, "indicators", "-y", "2006-08")
    assert bad.exit_code == 2 and "consecutive" in bad.stderr
    none = _cli(s, "indicators", "-y", "1999-00")
    assert none.exit_code == 5 and "fiscal years with data" in none.stderr  # not found, not a usage error

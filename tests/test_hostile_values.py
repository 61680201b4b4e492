"""Hostile values: whatever a partner puts in whatever column, the ingest neither crashes nor prints it.

Each value is parsed once, by the contract, and the transform uses exactly that value; a record the
transform still fails on is quarantined alone, with a reason naming no value."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl

from contracts.rcmp import CONTRACT as RCMP
from ibet.ingest import ingest_file

BIN = Path(sys.executable).parent
ODD = ["+1951-10-16", "21/12/+1974", "1e400", "NaN", "-0", "٣٤", "２０２６", "0x1F", " 7 ", "\u202eevil",
       "=cmd|'/c calc'!A0", "'; DROP TABLE x; --", "\x00nul", "a" * 300, "Zq Planted Narrative Of Five Words Or More"]
MARKERS = ["1951-10-16", "+1951", "+1974", "Zq Planted", "DROP TABLE", "calc", "evil"]


def _rcmp_rows(n: int) -> list[dict]:
    base = {c: "" for c in RCMP.levels["occurrences"].columns}
    base.update(reported_local="2026-11-03 10:00", detachment_tz="America/Toronto", detachment="Lacolle",
                occurrence_type="DRUG", intel_led="N", caveat="REL_IBET")
    return [dict(base, occurrence_id=f"2026-{i:06d}") for i in range(1, n + 1)]


def _write_csv(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue())


def test_an_odd_value_in_every_column_never_crashes_nor_shows(home):
    columns = [c for c in RCMP.levels["occurrences"].columns if c != "occurrence_id"]
    rows = _rcmp_rows(len(columns) * len(ODD) + 1)
    i = 0
    for c in columns:
        for v in ODD:
            rows[i][c] = v
            i += 1
    f = home.inbox / "rcmp" / "RCMP_IBET_OCC_20261103.csv"
    f.parent.mkdir(parents=True, exist_ok=True)
    _write_csv(f, rows)
    env = {k: v for k, v in os.environ.items() if k != "IBET_HOME"} | {"IBET_HOME": str(home.home)}
    done = subprocess.run([str(BIN / "ibet"), "ingest", "rcmp", str(f), "-f", "json"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr  # processed: odd records quarantined, the others loaded
    result = json.loads(done.stdout)
    assert result["rows_read"] == len(rows) == result["rows_loaded"] + result["rows_quarantined"]
    assert result["rows_loaded"] >= 1 and result["rows_quarantined"] > 0
    outputs = done.stdout + done.stderr + "".join(p.read_text(errors="ignore") for p in home.logs.rglob("*")
                                                  if p.is_file())
    for p in list(home.lake.rglob("*.parquet")) + list(home.quarantine.rglob("*")):
        if p.suffix == ".parquet":
            outputs += pl.read_parquet(p).write_csv()
        elif p.is_file():
            outputs += p.read_text(errors="ignore")
    for marker in MARKERS:
        assert marker not in outputs, marker
    assert "Traceback" not in done.stderr


def test_a_date_one_engine_reads_and_another_does_not_is_read_once(home):
    """polars reads "+1951-10-16" as a date and DuckDB does not: the contract's reading is the one used."""
    rows = _rcmp_rows(3)
    rows[0].update(subject_surname="Roy", subject_given_names="Luc", subject_dob="+1951-10-16")
    rows[1].update(subject_surname="Roy", subject_given_names="Luc", subject_dob="1951-10-16")
    f = home.inbox / "rcmp" / "RCMP_IBET_OCC_20261103.csv"
    f.parent.mkdir(parents=True, exist_ok=True)
    _write_csv(f, rows)
    r = ingest_file("rcmp", f, settings=home)
    assert r.ok and r.rows_loaded == 3
    subjects = duckdb.sql(f"SELECT birth_year, person_key FROM read_parquet('{home.lake}/subjects/*/*/*.parquet') "
                          "ORDER BY event_uid").fetchall()
    assert [s[0] for s in subjects] == [1951, 1951] and subjects[0][1] == subjects[1][1]


def test_a_record_the_transform_fails_on_is_quarantined_alone(home):
    """'localtime' is a zone Python knows and DuckDB does not: it passes the contract, fails the transform."""
    rows = _rcmp_rows(6)
    rows[3]["detachment_tz"] = "localtime"
    f = home.inbox / "rcmp" / "RCMP_IBET_OCC_20261103.csv"
    f.parent.mkdir(parents=True, exist_ok=True)
    _write_csv(f, rows)
    r = ingest_file("rcmp", f, settings=home)
    assert r.ok and (r.rows_loaded, r.rows_quarantined) == (5, 1)
    q = pl.read_parquet(next(home.quarantine.rglob("rcmp.parquet")))
    assert q["source_id"].to_list() == ["2026-000004"] and q["record"].to_list() == [4]
    assert q["reason"][0].startswith("record could not be normalized (") and "localtime" not in q["reason"][0]
    lake = duckdb.sql(f"SELECT count(*) FROM read_parquet('{home.lake}/events/*/*/*.parquet')").fetchall()[0][0]
    assert lake == 5


def test_a_narrative_in_a_place_column_is_quarantined_without_its_text(home):
    from contracts.cbp import CONTRACT as CBP

    base = {c: "" for c in CBP.levels["events"].columns}
    base.update(event_no="NB1", event_date="11/03/2026 02:15 PM", tz="EST", sector="SWB", station="Champlain",
                event_type="GOTAWAY", release="REL_IBET")
    rows = [base, dict(base, event_no="NB2", station="Patrol observed Helene Gagne near Blaine at the river"),
            dict(base, event_no="NB3", passport_country="AB123456")]
    f = home.inbox / "cbp" / "CBP_NB_20261103.csv"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text("\n".join(["|".join(base)] + ["|".join(r.values()) for r in rows]) + "\n")
    r = ingest_file("cbp", f, settings=home)
    assert r.ok and (r.rows_loaded, r.rows_quarantined) == (1, 2)
    q = pl.read_parquet(next(home.quarantine.rglob("cbp.parquet")))
    assert q["columns"].to_list() == ["station", "passport_country"]
    text = q.write_csv()
    assert "Gagne" not in text and "AB123456" not in text  # a passport number in a code column: not kept


def test_an_unexpected_error_is_one_line_without_its_message(home):
    script = ("import sys, warehouse.access as a\n"
              "def boom(*args):\n    secret = 'Gagne 1951-10-16'\n    raise ValueError('could not read ' + secret)\n"
              "a.tables = boom\nsys.argv = ['ibet', 'tables']\nimport ibet.cli\nibet.cli.main()\n")
    env = {k: v for k, v in os.environ.items() if k != "IBET_HOME"} | {"IBET_HOME": str(home.home)}
    (home.warehouse / "ibet.duckdb").write_bytes(b"")  # something to open
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "internal error (ValueError)" in done.stderr
    assert "1951" not in done.stderr + done.stdout and "Traceback" not in done.stderr
    log = (home.logs / "ibet.log").read_text()
    assert "internal error ValueError" in log and "1951" not in log and "in boom" in log

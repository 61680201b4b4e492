"""A new user's first hour with the CLI and the warehouse: the things a user of DuckDB, dbt or any
well-behaved CLI expects without being told (issue: each user's first hour works)."""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from ibet.cli import app
from foundation.settings import AUDIENCES
from tests.conftest import flat, render
from tests.lakebuild import LakeBuilder
from warehouse.build import build_all, published_path

BIN = Path(sys.executable).parent
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


def _cli(home: Path | None, *args: str, env: dict | None = None):
    e = {"IBET_HOME": str(home)} if home is not None else {}
    return CliRunner().invoke(app, list(args), env={**e, **(env or {})}, catch_exceptions=False)


def _ibet(*args: str, env: dict | None = None, cwd: Path | None = None, stdin: str | None = None):
    keep = {k: v for k, v in os.environ.items() if not k.startswith("IBET_")}
    return subprocess.run([str(BIN / "ibet"), *args], env={**keep, "COLUMNS": "200", **(env or {})}, cwd=cwd,
                          capture_output=True, text=True, input=stdin, timeout=300)


# ------------------------------------------------------------------ the CLI itself
def test_version_help_and_exit_codes_are_documented():
    version = _ibet("-V")
    assert version.returncode == 0 and re.match(r"ibet-warehouse \S+ \(duckdb 2\.", version.stdout)
    helped = _ibet("-h")
    assert helped.returncode == 0
    for command in ("init", "ingest", "build", "sql", "tables", "describe", "shell", "docs", "indicators",
                    "airflow"):
        assert f" {command} " in helped.stdout, command
    assert "Exit codes: 0 ok" in flat(helped.stdout) and "--install-completion" in helped.stdout
    sub = _ibet("sql", "-h")
    assert "<ibet|can|usa|evaluator>" in sub.stdout and "<table|csv|json|md|xlsx>" in sub.stdout


def test_a_mistyped_home_is_refused_not_created(tmp_path):
    missing = tmp_path / "typo"
    for args in (["build"], ["sql", "SELECT 1"], ["ingest-inbox"], ["keygen"], ["indicators", "-y", "2026-27"]):
        done = _ibet(*args, env={"IBET_HOME": str(missing)})
        assert done.returncode == 5, (args, done.stderr)
        assert f"no IBET home at {missing}: IBET_HOME={missing}" in flat(done.stderr) and "ibet init" in done.stderr
    assert not missing.exists()
    # without IBET_HOME, the default ./var is not conjured up in whatever folder the user stands in
    done = _ibet("build", cwd=tmp_path)
    assert done.returncode == 5 and "(IBET_HOME is not set)" in flat(done.stderr) and not (tmp_path / "var").exists()


def test_a_home_without_a_lake_does_not_publish_empty_warehouses(tmp_path):
    home = tmp_path / "home"
    assert _ibet("init", str(home)).returncode == 0
    done = _ibet("build", env={"IBET_HOME": str(home)})
    assert done.returncode == 5 and "no lake in" in flat(done.stderr)
    assert not list((home / "warehouse").glob("*.duckdb"))


def test_init_records_settings_and_a_bad_value_is_one_clear_line(tmp_path):
    home = tmp_path / "home"
    made = _ibet("init", str(home), "--dags-start", "2026-10-05")
    assert made.returncode == 0 and (home / "keys" / "pseudonym.key").exists()
    assert "IBET_DAGS_START=2026-10-05" in (home / "ibet.env").read_text()
    shown = _ibet("config", env={"IBET_HOME": str(home), "IBET_EXTRACT_WAIT_HOURS": "3"})
    text = flat(shown.stdout)
    assert "IBET_DAGS_START 2026-10-05 ibet.env" in text and "IBET_EXTRACT_WAIT_HOURS 3.0 environment" in text
    assert "IBET_FRESHNESS_LAG_DAYS 2 default" in text
    bad = _ibet("config", env={"IBET_HOME": str(home), "IBET_EXTRACT_WAIT_HOURS": "abc"})
    assert bad.returncode == 6 and "Traceback" not in bad.stderr
    assert "invalid setting: IBET_EXTRACT_WAIT_HOURS: Input should be a valid number" in flat(bad.stderr)
    refused = _ibet("init", str(home), "--dags-start", "someday")
    assert refused.returncode == 6 and "IBET_DAGS_START" in refused.stderr
    assert "someday" not in (home / "ibet.env").read_text()  # nothing bad was written


def test_logs_rotate_and_can_be_json(home):
    from foundation.logs import get_logger

    os.environ["IBET_LOG_FORMAT"] = "json"
    os.environ["IBET_LOG_MAX_BYTES"] = "400"
    try:
        settings = type(home)(home.home)  # fresh options
        log = get_logger(settings)
        for i in range(20):
            log.info("ingested %s rows", i, extra={"agency": "cbp"})
    finally:
        os.environ.pop("IBET_LOG_FORMAT")
        os.environ.pop("IBET_LOG_MAX_BYTES")
        for h in list(logging.getLogger("ibet").handlers):
            logging.getLogger("ibet").removeHandler(h)
            h.close()
    files = sorted(p.name for p in home.logs.glob("ibet.log*"))
    assert files[0] == "ibet.log" and "ibet.log.1" in files and len(files) <= 6  # rotated, bounded
    last = json.loads((home.logs / "ibet.log").read_text().splitlines()[-1])
    assert last["message"] == "ingested 19 rows" and last["agency"] == "cbp" and last["level"] == "INFO"


def test_quiet_and_verbose(published):
    s = published["settings"]
    quiet = _cli(s.home, "-q", "docs")
    assert quiet.exit_code == 0 and quiet.stdout == ""
    loud = _ibet("-v", "build", env={"IBET_HOME": str(s.home), "IBET_PSEUDONYM_KEY": secrets.token_hex(32)})
    assert loud.returncode == 0 and "staging refresh" in loud.stderr  # the log line, on stderr


# ------------------------------------------------------------------ analysts
def test_sql_has_a_row_limit_a_footer_and_shows_every_column(published):
    s = published["settings"]
    con = duckdb.connect(str(published_path(s, "ibet")), read_only=True)
    total = con.execute("SELECT count(*) FROM fact_events").fetchall()[0][0]
    con.close()
    assert total > 40
    r = _cli(s.home, "sql", "SELECT *, NULL::INTEGER AS nothing FROM fact_events ORDER BY event_uid")
    assert r.exit_code == 0
    body = [ln for ln in r.stdout.splitlines() if ln.startswith("│")]
    assert len(body) == 40
    assert f"{total:,} rows, showing 40: use --limit N or --all, or -f csv" in r.stdout
    header = next(ln for ln in r.stdout.splitlines() if ln.startswith("┃"))
    assert "nothing" in header and "event_uid" in header and "source_row" in header  # all-NULL column too
    assert len(_cli(s.home, "sql", "SELECT * FROM fact_events", "-n", "5").stdout.splitlines()) < 20
    every = _cli(s.home, "sql", "SELECT event_uid FROM fact_events", "--all")
    assert len([ln for ln in every.stdout.splitlines() if ln.startswith("│")]) == total
    csv = _cli(s.home, "sql", "SELECT event_uid FROM fact_events", "-f", "csv")
    assert len(csv.stdout.splitlines()) == total + 1  # exports are not capped
    # long text is cut; a pseudonym stays whole, on one line
    r = _cli(s.home, "sql", "SELECT repeat('x', 200) AS long_text, person_key FROM fact_subject_sightings "
                            "WHERE person_key IS NOT NULL LIMIT 3")
    rows = [ln for ln in r.stdout.splitlines() if ln.startswith("│")]
    assert len(rows) == 3 and all(HEX64.search(ln) and "x" * 48 not in ln and "…" in ln for ln in rows)


def test_tables_and_describe_show_descriptions_and_keys(published):
    s = published["settings"]
    r = _cli(s.home, "tables", "-f", "json")
    tables = {t["table"]: t for t in json.loads(r.stdout)}
    assert tables["fact_events"]["layer"] == "fact" and tables["dim_region"]["layer"] == "dimension"
    assert tables["mart_cross_agency_links"]["layer"] == "mart" and tables["fact_events"]["rows"] > 0
    assert all(t["description"] for t in tables.values())
    d = _cli(s.home, "describe", "fact_seizures", "-f", "json")
    cols = {c["column"]: c for c in json.loads(d.stdout)}
    # the event facts' keys are the gate's to check (no engine index on millions of rows): shown all the same
    assert cols["event_uid"]["key"] == "PK (gate), FK → fact_events.event_uid (gate)"
    assert cols["commodity"]["key"] == "FK → dim_commodity.commodity (gate)"
    assert cols["value_cad"]["description"].startswith("Value in CAD")
    ev = _cli(s.home, "describe", "fact_events", "-a", "can")
    assert ev.exit_code == 0 and "FK → dim_region.region_code (gate)" in ev.stdout and "meta_keys" in ev.stdout
    dims = {c["column"]: c for c in json.loads(_cli(s.home, "describe", "dim_commodity", "-f", "json").stdout)}
    assert dims["category"]["key"] == "FK → dim_category.category"  # a small table's keys: the engine's
    assert dims["commodity"]["key"] == "PK"
    missing = _cli(s.home, "describe", "fact_nothing")
    assert missing.exit_code == 2 and "no table 'fact_nothing'" in flat(missing.stderr)


def test_a_duckdb_1_5_client_opens_the_published_files(published):
    """The `duckdb` shell in the venv is the newest CLI on PyPI (1.5.x): it must read what we publish."""
    s = published["settings"]
    cli = BIN / "duckdb"
    assert subprocess.run([str(cli), "--version"], capture_output=True, text=True).stdout.startswith("v1.5")
    for audience in AUDIENCES:
        con = duckdb.connect(str(published_path(s, audience)), read_only=True)
        expected = con.execute("SELECT count(*) FROM mart_indicators").fetchall()[0][0]
        con.close()
        out = _ibet("shell", "-a", audience, env={"IBET_HOME": str(s.home)},
                    stdin=".mode csv\nSELECT count(*) FROM mart_indicators;\n"
                          "SELECT comment FROM duckdb_tables() WHERE table_name = 'mart_indicators';\n")
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert str(expected) in lines and any("indicator" in ln for ln in lines), out.stdout
    # read-only and no file access, even from the shell
    out = _ibet("shell", env={"IBET_HOME": str(s.home)},
                stdin=f"ATTACH '{s.warehouse / '.build' / 'staging.duckdb'}' AS st;\nCREATE TABLE x AS SELECT 1;\n"
                      "SET enable_external_access = true;\n")
    assert "Permission Error" in out.stderr or "disabled" in out.stderr.lower()
    assert "read-only" in out.stderr.lower() and "locked" in out.stderr.lower()


def test_data_dictionary_documents_every_column_with_lineage(published, chromium, tmp_path):
    s = published["settings"]
    assert _cli(s.home, "docs").exit_code == 0
    index = (s.docs / "index.html").read_text()
    assert all(f'href="{a}.html"' in index for a in AUDIENCES)
    for audience in AUDIENCES:
        page = (s.docs / f"{audience}.html").read_text()
        assert "https://" not in page and "http://" not in page  # self-contained
        con = duckdb.connect(str(published_path(s, audience)), read_only=True)
        cols = con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal").fetchall()
        con.close()
        for table, column in cols:
            assert f'id="{table}"' in page and f'<td class="name">{column}</td>' in page, (audience, table, column)
        assert oct((s.docs / f"{audience}.html").stat().st_mode)[-3:] == "640"
    ibet = (s.docs / "ibet.html").read_text()
    # person_key comes from each agency's name and birth-date columns, which are identifiers
    person = ibet.split('<td class="name">person_key</td>', 1)[1].split("</tr>", 1)[0]
    assert "<b>rcmp</b>: <code>occurrences.subject_dob</code> <span class=\"tag p-identifier\">identifier" in person
    assert "<b>cbp</b>: <code>events.dob</code>" in person and "<code>subjects.person_key</code>" in person
    assert "built by <code>warehouse/sql/20_facts/10_fact_events.sql</code>" in ibet
    assert 'id="fact_events"' not in (s.docs / "evaluator.html").read_text()
    shot, dom = render(chromium, s.docs / "ibet.html", tmp_path, "dictionary", dump_dom=True)
    print(f"\ndata dictionary screenshot: {shot.stat().st_size:,} bytes")
    assert shot.stat().st_size > 20_000 and "mart_cross_agency_links" in dom


def test_lineage_file_is_up_to_date():
    from warehouse import lineage

    assert lineage.load() == json.loads(json.dumps(lineage.generate(), sort_keys=True)), \
        "run `make lineage` (warehouse/lineage.json is stale)"


# ------------------------------------------------------------------ the gate: volume
def _small_lake(s, agencies: tuple[str, ...]) -> None:
    lb = LakeBuilder(s)
    for a in agencies:
        for i in range(6):
            lb.event(a, f"V{i}", f"2026-11-0{2 + i % 3} 10:0{i}")
    lb.write()


def test_an_empty_or_vanishing_partner_blocks_publication(tmp_path):
    from tests.conftest import fresh_home

    with fresh_home(tmp_path) as s:
        lb = LakeBuilder(s)
        lb.program("finance", "2026-27", agency_code="rcmp", planned_spending=1.0, actual_spending=1.0,
                   currency="CAD")
        lb.write()
        empty = build_all(s)
        assert not empty.published and "lake/volume" in empty.gate_message  # no partner events at all
        _small_lake(s, ("rcmp", "cbp"))
        first = build_all(s)
        assert first.published, first.gate_message
        for p in (s.lake / "events" / "agency=cbp").rglob("*.parquet"):
            p.unlink()
        gone = build_all(s)
        assert not gone.published and "lake/volume" in gone.gate_message
        vol = [o for o in gone.gate["outcomes"] if o["suite"] == "volume"][0]
        assert vol["blocking"] and not vol["success"]

"""An engineer's first hour with Airflow on this machine: `make demo`, then `make airflow-ui`.

The demo's runs are the runs the scheduler makes (same run ids, logical dates, data intervals,
run types), so the UI's scheduler continues where the demo stopped; the UI answers on its port
and lists the project's DAGs even with the venv's bin off PATH; a rejected file fails its run at
once (no retry) and raises an alert; airflow.cfg follows a moved home.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from foundation.registry import AGENCIES

BIN = Path(sys.executable).parent
DAY = dt.date(2026, 11, 2)
NEXT = DAY + dt.timedelta(days=1)
SAFETY_S = 600  # generous: a busy 2-core machine; readiness is polled, never slept on


def _env(home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "IBET_"))}
    # the venv's bin is NOT on PATH: `airflow standalone` must still find its components
    return {**keep, "PATH": "/usr/local/bin:/usr/bin:/bin", "IBET_HOME": str(home),
            "IBET_PSEUDONYM_KEY": secrets.token_hex(32), "IBET_DAGS_END": NEXT.isoformat(),
            "IBET_EXTRACT_POLL_SECONDS": "2", "COLUMNS": "200"}


def _ibet(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BIN / "ibet"), *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"ibet {' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def _get(url: str, method: str = "GET", body: dict | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
        return resp.status, resp.read()


def _wait(what: str, check, proc: subprocess.Popen, log: Path, deadline: float, every: float = 2.0):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"airflow ui exited ({proc.returncode}) while waiting for {what}:\n"
                                 + log.read_text(errors="replace")[-4000:])
        try:
            got = check()
        except OSError:
            got = None
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}:\n" + log.read_text(errors="replace")[-4000:])


def _screenshot(browser: str, url: str, out: Path) -> tuple[Path, str]:
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={out / 'profile'}", "--window-size=1400,900", "--virtual-time-budget=15000"]
    shot = out / "airflow_ui.png"
    done = subprocess.run([*flags, f"--screenshot={shot}", url], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and shot.exists(), done.stderr[-1000:]
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=180).stdout
    return shot, dom


def _runs(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT dag_id, run_id, run_type, state, logical_date, data_interval_start, "
                           "data_interval_end, triggered_by, start_date FROM dag_run ORDER BY dag_id, run_id").fetchall()
    finally:
        con.close()


def test_demo_then_ui_continues_and_a_rejected_file_fails_at_once(tmp_path, chromium):
    started = time.monotonic()
    deadline = started + SAFETY_S
    home = tmp_path / "home"
    env = _env(home)
    _ibet(env, "init", "--dags-start", DAY.isoformat())
    _ibet(env, "generate", "--start", DAY.isoformat(), "--days", "2", "--rows-per-day", "40", "--seed", "5")
    (home / "inbox" / "cbp" / f"CBP_NB_{NEXT:%Y%m%d}.csv").write_text("not|the|header\n")  # rejected tomorrow
    before_demo = dt.datetime.now(dt.timezone.utc)
    _ibet(env, "airflow", "demo", "--start", DAY.isoformat(), "--days", "1")

    # the demo's runs are the scheduler's: scheduled, run id from the interval end, logical date = interval start
    airflow_home = home / "airflow"
    db = airflow_home / "airflow.db"
    runs = _runs(db)
    ingest = [r for r in runs if r[0].startswith("ibet_ingest_")]
    assert sorted(r[0] for r in ingest) == sorted(f"ibet_ingest_{a}" for a in AGENCIES)
    for dag_id, run_id, run_type, state, logical, start, end, triggered_by, began in ingest:
        assert (run_id, run_type, state, triggered_by) == (
            f"scheduled__{NEXT.isoformat()}T00:00:00+00:00", "scheduled", "success", "TIMETABLE"), dag_id
        assert logical.startswith(DAY.isoformat()) and start.startswith(DAY.isoformat()) \
            and end.startswith(NEXT.isoformat())
        assert dt.datetime.fromisoformat(began).replace(tzinfo=dt.timezone.utc) >= before_demo  # not "15 days"
    (marts,) = [r for r in runs if r[0] == "ibet_marts"]
    assert marts[2:4] == ("asset_triggered", "success") and marts[4] is None
    con = sqlite3.connect(db)
    consumed = con.execute("SELECT count(*) FROM dagrun_asset_event").fetchone()[0]
    con.close()
    assert consumed == len(AGENCIES)  # the marts run consumed the day's asset events, as the scheduler's would

    # airflow.cfg: no examples, our DAGs, paths relative to AIRFLOW_HOME (a copied home uses its own database)
    cfg = (airflow_home / "airflow.cfg").read_text()
    assert "load_examples = False" in cfg and f"dags_folder = {Path(__file__).resolve().parents[1] / 'dags'}" in cfg
    assert "sqlite:///${AIRFLOW_HOME}/airflow.db" in cfg and str(home) not in cfg
    copy = tmp_path / "copied-home"
    shutil.copytree(home, copy, symlinks=True)
    copy_env = {**env, "IBET_HOME": str(copy)}
    exports = dict(line.removeprefix("export ").split("=", 1) for line in
                   _ibet(copy_env, "airflow", "env").stdout.splitlines())
    got = subprocess.run([str(BIN / "airflow"), "config", "get-value", "database", "sql_alchemy_conn"],
                         env={**copy_env, "AIRFLOW_HOME": exports["AIRFLOW_HOME"].strip("'")}, capture_output=True,
                         text=True, timeout=120)
    assert got.stdout.strip() == f"sqlite:///{copy}/airflow/airflow.db", got.stderr[-1000:]

    # the UI comes up with the venv's bin off PATH, lists the DAGs, and the scheduler carries on
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "ui.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(BIN / "ibet"), "airflow", "ui", "--port", str(port)], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait("the UI to answer", lambda: _get(f"{base}/api/v2/monitor/health")[0] == 200, proc, log, deadline)
        status, page = _get(f"{base}/")
        assert status == 200 and b"<html" in page.lower()
        shot, dom = _screenshot(chromium, f"{base}/dags", tmp_path)
        print(f"\nAirflow UI screenshot: {shot.stat().st_size:,} bytes")
        assert shot.stat().st_size > 20_000 and "ibet_ingest_rcmp" in dom  # the UI draws the project's DAGs
        listed = {d["dag_id"] for d in json.loads(_get(f"{base}/api/v2/dags")[1])["dags"]}
        assert listed == {f"ibet_ingest_{a}" for a in AGENCIES} | {"ibet_marts", "ibet_purge"}
        for dag_id in ("ibet_ingest_rcmp", "ibet_ingest_cbp"):
            assert _get(f"{base}/api/v2/dags/{dag_id}", "PATCH", {"is_paused": False})[0] == 200

        def next_day_runs():
            got = {r[0]: r for r in _runs(db) if r[4] and r[4].startswith(NEXT.isoformat())}
            done = {k: r[3] for k, r in got.items() if r[3] in ("success", "failed")}
            return done if len(done) == 2 else None
        states = _wait("the scheduler to run the next day for rcmp and cbp", next_day_runs, proc, log, deadline)
        assert states == {"ibet_ingest_rcmp": "success", "ibet_ingest_cbp": "failed"}
        con = sqlite3.connect(db)
        tries = con.execute("SELECT state, try_number FROM task_instance WHERE dag_id = 'ibet_ingest_cbp' AND "
                            "task_id = 'ingest' AND run_id LIKE ?", [f"%{(NEXT + dt.timedelta(days=1)).isoformat()}%"]
                            ).fetchall()
        con.close()
        assert tries == [("failed", 1)]  # a rejected file is not retried (retries=3 are for infrastructure)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert "FileNotFoundError" not in text and "run already exists" not in text
    alerts = [json.loads(x) for x in (home / "logs" / "alerts.jsonl").read_text().splitlines()]
    failed = [a for a in alerts if a["kind"] == "task_failed" and a["agency"] == "cbp"]
    assert failed and failed[0]["extract_date"] == NEXT.isoformat() and failed[0]["task_id"] == "ingest"
    name = f"CBP_NB_{NEXT:%Y%m%d}.csv"
    assert failed[0]["reason"].count(name) == 1, failed[0]["reason"]  # the file is named once
    print(f"\ndemo + UI + scheduler continuation: {time.monotonic() - started:.0f} s")

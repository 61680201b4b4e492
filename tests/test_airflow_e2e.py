"""End to end under the real scheduler: PostgreSQL metadata DB, LocalExecutor, scheduler +
dag-processor + triggerer + api-server as processes; one day of extracts dropped while the
ingest DAGs wait; every ingest run succeeds, asset events trigger the marts run, and the
published warehouse holds the rows."""
from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ibet.generator import generate
from foundation.registry import AGENCIES
from foundation.settings import init_home
from tests.airflow_cluster import AIRFLOW, REDIS_URL, AirflowCluster
from warehouse.build import published_path

DAY = dt.date(2026, 11, 2)
DEADLINE_S = 900  # a safety budget every wait shares (never a speed target: the benchmark measures speed)




def _processes_with_in_argv(secret: str) -> list[str]:
    """Processes whose command line holds ``secret`` (any user may read /proc/*/cmdline: an argument is
    not a secret)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if secret.encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
        except OSError:
            continue
    return found


PULLED = "cbp"  #: the agency whose extract the DAG pulls from an SFTP server (the others drop theirs in the inbox)


def test_scheduler_end_to_end_on_postgres(airflow_servers, sshd, tmp_path):
    started = time.monotonic()
    deadline = started + DEADLINE_S
    home = tmp_path / "home"
    # CBP publishes on its SFTP server (OpenSSH's sshd on loopback), named by the Airflow Connection
    # ibet_cbp: the credentials live in the connection only (here its environment form)
    sftp_conn = {"conn_type": "sftp", "host": "127.0.0.1", "port": sshd.port, "login": sshd.user,
                 "schema": str(sshd.root / "{agency}"),
                 "extra": {"private_key": sshd.user_private, "known_hosts": sshd.host_public}}
    env = {"IBET_HOME": str(home), "IBET_PSEUDONYM_KEY": secrets.token_hex(32),
           "IBET_DAGS_START": DAY.isoformat(), "IBET_DAGS_END": DAY.isoformat(),
           "IBET_EXTRACT_POLL_SECONDS": "2", "IBET_EXTRACT_WAIT_HOURS": "1",
           "IBET_EXTRACT_LATE_HOURS": "0.005",  # 18 s after a run is queued without its file: "extract late"
           f"AIRFLOW_CONN_IBET_{PULLED.upper()}": json.dumps(sftp_conn),
           # push: announcements on Redis start an agency's ingest at once (this test's own channel)
           "IBET_PUSH_ENABLED": "true", "IBET_PUSH_CHANNEL": f"ibet.extracts.{secrets.token_hex(4)}",
           "AIRFLOW_CONN_IBET_REDIS": REDIS_URL}
    settings = init_home(home)
    staging = tmp_path / "outbox"
    generate(staging, DAY, 1, 80, seed=3, dirty_rate=0.02)
    ingest_ids = [f"ibet_ingest_{a}" for a in AGENCIES]

    with AirflowCluster(tmp_path, env) as af:
        # the scheduler creates one run per agency for the day; their sensors defer, waiting for files
        def waiting():
            rows = af.sql("SELECT dag_id, state FROM task_instance WHERE task_id = 'wait_for_extract' "
                          "AND dag_id <> %s", (f"ibet_ingest_{PULLED}",))
            pulling = af.sql("SELECT state FROM task_instance WHERE task_id = 'pull_extract' AND dag_id = %s",
                             (f"ibet_ingest_{PULLED}",))
            # the pull polls the server (each poll is a login in sshd's log) and reschedules itself between polls
            polled = sshd.log.read_text(errors="replace").count("Accepted publickey")
            return len(rows) == len(ingest_ids) - 1 and all(s == "deferred" for _, s in rows) and polled >= 1 \
                and pulling and pulling[0][0] in ("up_for_reschedule", "scheduled", "queued", "running")
        af.wait("every ingest DAG to wait for its extract (deferred on the inbox, or polling the SFTP server)",
              waiting, deadline)

        # the files are late: the DAG deadline alert fires (scheduler -> triggerer callback -> alert log)
        alert_log = settings.logs / "alerts.jsonl"

        def late_alerts():
            if not alert_log.exists():
                return None
            got = [json.loads(x) for x in alert_log.read_text().splitlines()]
            late = {a["agency"]: a for a in got if a["kind"] == "extract_late"}
            return late if set(late) == set(AGENCIES) else None
        late = af.wait("an 'extract late' alert for every agency", late_alerts, deadline)
        assert all(a["extract_date"] == DAY.isoformat() and a["dag_id"] == f"ibet_ingest_{code}"
                   for code, a in late.items())
        # the partners drop their files
        for agency_dir in sorted(p for p in staging.iterdir() if p.is_dir()):
            target = (sshd.root if agency_dir.name == PULLED else settings.inbox) / agency_dir.name
            target.mkdir(parents=True, exist_ok=True)
            for f in sorted(agency_dir.iterdir()):
                shutil.copy2(f, target / (f.name + ".part"))
                os.replace(target / (f.name + ".part"), target / f.name)  # atomic drop, as an SFTP client would
        dropped = time.time()

        key_hex = env["IBET_PSEUDONYM_KEY"]
        in_argv: list[str] = []

        def ingested():
            in_argv.extend(_processes_with_in_argv(key_hex))  # tasks run now: the key is never an argument
            rows = af.sql("SELECT dag_id, state FROM dag_run WHERE dag_id LIKE 'ibet_ingest_%%'")
            failed = [r for r in rows if r[1] == "failed"]
            if failed:
                pytest.fail(f"ingest runs failed: {failed}\n{af.log_tail()}")
            return len(rows) == len(ingest_ids) and all(s == "success" for _, s in rows)
        af.wait("every ingest DAG run to succeed", ingested, deadline)

        def marts_done():
            rows = af.sql("SELECT state, run_type FROM dag_run WHERE dag_id = 'ibet_marts'")
            if any(s == "failed" for s, _ in rows):
                pytest.fail(f"marts run failed\n{af.log_tail()}")
            consumed = af.sql("SELECT count(*) FROM dagrun_asset_event dae JOIN dag_run r ON r.id = dae.dag_run_id "
                              "WHERE r.dag_id = 'ibet_marts'")[0][0]
            # done when every asset event was consumed by a marts run and every such run succeeded
            return consumed == len(AGENCIES) and rows and all(s == "success" for s, _ in rows) \
                and published_path(settings, "ibet").exists()
        af.wait("the asset-triggered marts run to publish", marts_done, deadline)
        published = max(published_path(settings, a).stat().st_mtime for a in ("ibet", "can", "usa", "evaluator"))

        latency = published - dropped
        # backfill the same day for one agency: a new run, the same lake bytes (idempotent by date)
        before = {p: p.read_bytes() for p in sorted(settings.lake.rglob("agency=rcmp/**/*.parquet"))}
        done = subprocess.run([AIRFLOW, "backfill", "create", "--dag-id", "ibet_ingest_rcmp", "--from-date",
                               DAY.isoformat(), "--to-date", DAY.isoformat(), "--reprocess-behavior", "completed"],
                              env=af.env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]

        def backfilled():
            rows = af.sql("SELECT state FROM dag_run WHERE dag_id = 'ibet_ingest_rcmp' AND run_type = 'backfill'")
            if any(s == "failed" for (s,) in rows):
                pytest.fail(f"backfill run failed\n{af.log_tail()}")
            return rows and all(s == "success" for (s,) in rows)
        af.wait("the backfill run to succeed", backfilled, deadline)
        assert {p: p.read_bytes() for p in before} == before and before

        # push: ICE announces the next day's file on Redis; no scheduled run exists for that day
        import redis

        channel, pushed_day = env["IBET_PUSH_CHANNEL"], DAY + dt.timedelta(days=1)
        bus = redis.Redis.from_url(REDIS_URL)
        af.wait("the triggerer's Redis watcher to subscribe", lambda: dict(bus.pubsub_numsub(channel)).get(
            channel.encode(), 0) >= 1, deadline, every=0.5)
        generate(tmp_path / "pushed", pushed_day, 1, 80, seed=9, dirty_rate=0.02, agencies_=["ice"])
        (settings.inbox / "ice").mkdir(parents=True, exist_ok=True)
        pushed_name = next((tmp_path / "pushed" / "ice").iterdir()).name
        shutil.copy2(tmp_path / "pushed" / "ice" / pushed_name, settings.inbox / "ice" / pushed_name)
        def announcements() -> int:
            return af.sql("SELECT count(*) FROM asset_event e JOIN asset a ON a.id = e.asset_id "
                          "WHERE a.name = 'ibet_extract_announcements'")[0][0]

        def push(text: str) -> None:
            """Publish until the watcher relays it. Redis pub/sub drops a message nobody is subscribed for, and
            the watcher re-subscribes after each message it relays: a publisher repeats an announcement that was
            not taken (a repeated announcement of one file is harmless: it is never ingested twice)."""
            before = announcements()
            while time.monotonic() < deadline:
                af.wait("a listener on the channel", lambda: bus.publish(channel, text) >= 1, deadline, every=0.2)
                taken_by = time.monotonic() + 15
                while time.monotonic() < taken_by:
                    if announcements() > before:
                        return
                    time.sleep(0.2)
            pytest.fail(f"the watcher never relayed an announcement\n{af.log_tail()}")

        push("not json {")  # malformed: logged and dropped, the triggerer carries on
        push(json.dumps({"agency": "nsa", "file": "x", "extract_date": "2026-11-03"}))  # unknown agency
        message = json.dumps({"agency": "ice", "file": pushed_name, "extract_date": pushed_day.isoformat()})
        pushed_at = time.time()
        push(message)
        partition = settings.lake / "events" / "agency=ice" / f"extract_date={pushed_day.isoformat()}"
        af.wait("the pushed file to land in the lake", partition.exists, deadline, every=0.2)
        push_to_lake = time.time() - pushed_at

        def pushed_published():
            rows = af.sql("SELECT state FROM dag_run WHERE dag_id = 'ibet_marts'")
            if any(s == "failed" for (s,) in rows):
                pytest.fail(f"marts run failed\n{af.log_tail()}")
            if not rows or any(s != "success" for (s,) in rows):
                return False
            con = duckdb.connect(str(published_path(settings, "ibet")), read_only=True)
            try:
                return con.execute("SELECT count(*) FROM fact_events WHERE agency_code = 'ice' AND source_file = ?",
                                   [pushed_name]).fetchall()[0][0] > 0
            finally:
                con.close()
        af.wait("the pushed file's events to be published", pushed_published, deadline, every=0.5)
        push_to_published = time.time() - pushed_at
        # the same announcement again: the push run skips the file already in the lake (never ingested twice)
        push_sql = ("SELECT r.state, ti.state FROM dag_run r JOIN task_instance ti ON ti.dag_id = r.dag_id "
                    "AND ti.run_id = r.run_id WHERE r.dag_id = 'ibet_push' AND ti.task_id = 'ingest_ice' ORDER BY r.id")
        af.wait("the push runs to finish", lambda: all(r[0] in ("success", "failed") for r in af.sql(push_sql)),
              deadline)
        runs_before = len(af.sql(push_sql))
        push(message)

        def second_push_done():
            rows = af.sql(push_sql)
            return rows if len(rows) > runs_before and all(r[0] in ("success", "failed") for r in rows) else None
        push_runs = af.wait("the repeated announcement's push run", second_push_done, deadline)
        bus.close()
        assert all(r == "success" for r, _ in push_runs), push_runs
        assert [t for _, t in push_runs].count("success") == 1 and push_runs[-1][1] == "skipped", push_runs
        ingests = [json.loads(x) for x in (settings.home / "audit" / "audit.jsonl").read_text().splitlines()
                   if json.loads(x)["action"] == "ingest" and json.loads(x).get("file") == pushed_name]
        assert len(ingests) == 1, ingests  # the push ingested it once; the repeat did not
        push_logs = [p.read_text(errors="replace") for p in (tmp_path / "airflow" / "logs").rglob("*.log")
                     if "dag_id=ibet_push" in str(p) and "task_id=read_announcements" in str(p)]
        assert sum(t.count("announcement dropped") for t in push_logs) >= 2

        runs = af.sql("SELECT dag_id, state, run_type, data_interval_start FROM dag_run ORDER BY dag_id")
        timeline = af.sql("SELECT task_id, dag_id, extract(epoch FROM start_date), extract(epoch FROM end_date), "
                          "state FROM task_instance WHERE start_date IS NOT NULL ORDER BY start_date")
        events = af.sql("SELECT a.name, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id")
        xcoms = af.sql("SELECT dag_id, task_id, CAST(value AS TEXT) FROM xcom")
        links = af.sql("SELECT count(*) FROM dagrun_asset_event dae JOIN dag_run r ON r.id = dae.dag_run_id "
                       "WHERE r.dag_id = 'ibet_marts'")

    ingest_runs = [r for r in runs if r[0].startswith("ibet_ingest_")]
    assert sorted(r[0] for r in ingest_runs) == sorted(ingest_ids)  # the backfill re-ran rcmp's run in place
    assert all(r[1] == "success" and r[3].date() == DAY for r in ingest_runs)
    assert {r[0]: r[2] for r in ingest_runs} == {d: "backfill" if d == "ibet_ingest_rcmp" else "scheduled"
                                                 for d in ingest_ids}
    # the backfill's asset event starts one more marts run; the test stops before it ends
    marts_runs = [r for r in runs if r[0] == "ibet_marts" and r[1] not in ("queued", "running")]
    assert marts_runs and all(r[2] == "asset_triggered" and r[1] == "success" for r in marts_runs)
    lake_events = [(n, e) for n, e in events if n.startswith("ibet_lake_")]
    assert sorted(n for n, _ in lake_events) == sorted([f"ibet_lake_{a}" for a in AGENCIES] + ["ibet_lake_rcmp",
                                                                                            "ibet_lake_ice"])
    assert len([n for n, _ in events if n == "ibet_extract_announcements"]) >= 4  # 2 dropped, pushed twice
    extras = [e if isinstance(e, dict) else json.loads(e) for _, e in lake_events]
    assert all(x["extract_date"] in (DAY.isoformat(), (DAY + dt.timedelta(days=1)).isoformat())
               and x["rows_read"] == x["rows_loaded"] + x["rows_quarantined"] for x in extras)
    assert links[0][0] >= len(AGENCIES), "every asset event of the day should be consumed by a marts run"

    # the key, and the HMAC pads that stand for it, are in no argument, XCom, asset extra, task log or file
    from foundation.privacy import _pads

    # ... and neither is the SFTP private key (any line of its body)
    key_lines = [ln for ln in sshd.user_private.splitlines() if ln and not ln.startswith("-----")]
    secret_forms = {key_hex, key_hex.upper(), *_pads(bytes.fromhex(key_hex)), *key_lines}
    assert in_argv == []
    assert xcoms and not [x for x in xcoms if any(f in (x[2] or "") for f in secret_forms)]
    assert not [e for _, e in events if any(f in json.dumps(e, default=str) for f in secret_forms)]
    logs = [p for p in (tmp_path / "airflow" / "logs").rglob("*") if p.is_file()]
    assert logs and not [p for p in logs if any(f.encode() in p.read_bytes() for f in secret_forms)]
    outputs = [p for p in settings.home.rglob("*") if p.is_file()]
    assert not [p for p in outputs if any(f.encode() in p.read_bytes() for f in secret_forms)]
    audit_actions = {json.loads(x)["action"] for x in (settings.home / "audit" / "audit.jsonl").read_text().splitlines()}
    assert {"fetch", "ingest", "build", "gate", "publish"} <= audit_actions  # the scheduler's work is in the audit trail
    fetched = [json.loads(x) for x in (settings.home / "audit" / "audit.jsonl").read_text().splitlines()
               if json.loads(x)["action"] == "fetch"]
    assert {f["agency"] for f in fetched} == {PULLED} and all(f"127.0.0.1:{sshd.port}" in f["source"] for f in fetched)
    assert sorted(p.name for p in (settings.inbox / PULLED).iterdir()) == sorted(
        p.name for p in (staging / PULLED).iterdir())  # pulled into the inbox, whole, no temporary file left

    lake = pl.read_parquet(settings.lake / "events" / "*" / "*" / "*.parquet", hive_partitioning=True)
    assert sorted(lake["agency"].unique().to_list()) == sorted(a for a in AGENCIES if a != "program")
    con = duckdb.connect(str(published_path(settings, "ibet")), read_only=True)
    n = con.execute("SELECT count(*) FROM fact_events").fetchall()[0][0]
    con.close()
    # an event is its latest version (ICE's next-day case updates repeat cases), then the audience's caveat
    latest = lake.sort("extract_date").group_by("event_uid", maintain_order=True).last()
    assert n == latest.filter(pl.col("caveat") == "REL_IBET").height > 0
    print("\ntask timeline (seconds after the drop):")
    for task_id, dag_id, t0, t1, state in timeline:
        print(f"  {dag_id:22} {task_id:18} {float(t0) - dropped:7.1f} -> {float(t1 or t0) - dropped:7.1f}  {state}")
    print(f"scheduler end to end: {len(ingest_runs)} ingest runs (rcmp re-run by backfill), {len(marts_runs)} marts "
          f"run(s); whole test {time.monotonic() - started:.0f} s")
    # the figures make bench-latency reports (a benchmark's, never asserted: the test checks correctness)
    print(f"push→lake: {push_to_lake:.1f} s")
    print(f"push→published: {push_to_published:.1f} s")
    print(f"drop→published: {latency:.1f} s")

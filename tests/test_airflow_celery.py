"""Scale out on Airflow's distributed engine: CeleryExecutor, Redis broker, PostgreSQL metadata database
and result backend, two Celery workers as separate processes (each its own hostname and log). One day
of every agency goes through; one worker is SIGKILLed while it runs an ingest task, and nothing is lost:
the task is retried on the other worker and the lake is byte for byte what a clean ingest writes."""
from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from foundation.registry import AGENCIES
from foundation.settings import Settings, init_home
from ibet.generator import generate
from ibet.orchestration.pools import MARTS_POOL
from tests.airflow_cluster import AirflowCluster
from warehouse.build import published_path

DAY = dt.date(2026, 11, 3)
DEADLINE_S = 1200  # a safety budget every wait shares, never a speed target




def _drop(staging: Path, inbox: Path) -> None:
    for agency_dir in sorted(p for p in staging.iterdir() if p.is_dir()):
        target = inbox / agency_dir.name
        target.mkdir(parents=True, exist_ok=True)
        for f in sorted(agency_dir.iterdir()):
            shutil.copy2(f, target / (f.name + ".part"))  # copy2: the arrival time (mtime) travels too
            os.replace(target / (f.name + ".part"), target / f.name)


def _lake_files(settings: Settings) -> dict[str, bytes]:
    return {str(p.relative_to(settings.lake)): p.read_bytes() for p in sorted(settings.lake.rglob("*.parquet"))
            if "_ingest" not in p.parts}


def test_celery_two_workers_one_killed_mid_ingest(airflow_servers, tmp_path, monkeypatch):
    started = time.monotonic()
    deadline = started + DEADLINE_S
    key = secrets.token_hex(32)
    home = tmp_path / "home"
    env = {"IBET_HOME": str(home), "IBET_PSEUDONYM_KEY": key,
           "IBET_DAGS_START": DAY.isoformat(), "IBET_DAGS_END": DAY.isoformat(),
           "IBET_EXTRACT_POLL_SECONDS": "2", "IBET_EXTRACT_WAIT_HOURS": "1", "IBET_RETRY_DELAY_SECONDS": "2"}
    settings = init_home(home)
    staging = tmp_path / "outbox"
    truth = generate(staging, DAY, 1, 3000, seed=11, dirty_rate=0.02)
    _drop(staging, settings.inbox)  # the day's files are there when the workers start

    # the reference: the same files ingested in-process, cleanly, into another home with the same key
    from ibet.orchestration.tasks import ingest_day

    ref_settings = init_home(tmp_path / "reference")
    _drop(staging, ref_settings.inbox)
    monkeypatch.setenv("IBET_PSEUDONYM_KEY", key)
    ref_counts = {}
    for agency in AGENCIES:
        got = ingest_day(agency, DAY, settings=ref_settings)
        ref_counts[agency] = (got["rows_read"], got["rows_loaded"], got["rows_quarantined"])
    # the reference itself against the generator's ground truth: every record it wrote was read
    written = {}
    for f in truth["files"]:
        written[f["agency"]] = written.get(f["agency"], 0) + sum(f["rows"].values())
    assert {a: c[0] for a, c in ref_counts.items() if c[0]} == {a: n for a, n in written.items() if n}
    reference = _lake_files(ref_settings)
    assert reference

    ingest_ids = sorted(f"ibet_ingest_{a}" for a in AGENCIES)
    with AirflowCluster(tmp_path, env, celery_workers=2) as af:
        # worker1 dies, with everything under it, while it runs an ingest task (a partition half-written)
        def victim():
            rows = af.sql("SELECT dag_id, task_id, try_number FROM task_instance WHERE hostname = 'worker1' "
                          "AND state = 'running' AND task_id = 'ingest'")
            return rows[0] if rows else None
        victim_dag, victim_task, victim_try = af.wait("worker1 to run an ingest task", victim, deadline, every=0.2)
        af.kill("worker1")
        killed_at = time.monotonic()

        def ingested():
            rows = af.sql("SELECT dag_id, state FROM dag_run WHERE dag_id LIKE 'ibet_ingest_%%'")
            failed = [r for r in rows if r[1] == "failed"]
            if failed:
                pytest.fail(f"ingest runs failed: {failed}\n{af.log_tail()}")
            return sorted(d for d, _ in rows) == ingest_ids and all(s == "success" for _, s in rows)
        af.wait("every ingest run to succeed (the killed task retried on worker2)", ingested, deadline)
        recovered = time.monotonic() - killed_at

        def published():
            rows = af.sql("SELECT state FROM dag_run WHERE dag_id = 'ibet_marts'")
            if any(s == "failed" for (s,) in rows):
                pytest.fail(f"marts run failed\n{af.log_tail()}")
            consumed = af.sql("SELECT count(*) FROM dagrun_asset_event dae JOIN dag_run r ON r.id = dae.dag_run_id "
                              "WHERE r.dag_id = 'ibet_marts'")[0][0]
            return consumed == len(AGENCIES) and rows and all(s == "success" for (s,) in rows) \
                and published_path(settings, "ibet").exists()
        af.wait("the asset-triggered marts runs to publish", published, deadline)

        tries = af.sql("SELECT dag_id, task_id, try_number, hostname, state, pool FROM task_instance "
                       "UNION ALL SELECT dag_id, task_id, try_number, hostname, state, pool FROM task_instance_history")
        victim_final = af.sql("SELECT state, hostname, try_number FROM task_instance WHERE dag_id = %s AND task_id = %s",
                              (victim_dag, victim_task))[0]
        events = af.sql("SELECT a.name, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id")
        spans = af.sql("SELECT dag_id, start_date, end_date FROM task_instance WHERE dag_id LIKE 'ibet_ingest_%%' "
                       "AND start_date IS NOT NULL AND end_date IS NOT NULL UNION ALL "
                       "SELECT dag_id, start_date, end_date FROM task_instance_history WHERE dag_id LIKE "
                       "'ibet_ingest_%%' AND start_date IS NOT NULL AND end_date IS NOT NULL")

    # the killed try was worker1's; the retry ran on worker2 and succeeded
    assert victim_final[0] == "success" and victim_final[1] == "worker2" and victim_final[2] > victim_try, victim_final
    assert (victim_dag, victim_task, victim_try, "worker1") in {t[:4] for t in tries}
    per_worker: dict[str, int] = {}
    for _, _, _, host, state, _ in tries:
        if host:
            per_worker[host] = per_worker.get(host, 0) + 1
    assert set(per_worker) == {"worker1", "worker2"}, per_worker  # both ran tasks; no task ran anywhere else
    # different agencies' tasks ran at the same time (on two workers of two slots each)
    overlapping = {(a, b) for a, s1, e1 in spans for b, s2, e2 in spans if a < b and s1 < e2 and s2 < e1}
    assert overlapping, "no two agencies' tasks ever overlapped"
    # the warehouse-writing tasks ran in the one-slot pool
    assert {p for d, t, _, _, _, p in tries if d == "ibet_marts" and t != "plan"} == {MARTS_POOL}

    # nothing lost, nothing doubled: the lake is byte for byte the clean ingest's, every row accounted for
    assert _lake_files(settings) == reference
    extras = [e if isinstance(e, dict) else json.loads(e) for _, e in events]
    assert {x["agency"]: (x["rows_read"], x["rows_loaded"], x["rows_quarantined"]) for x in extras} == ref_counts
    assert len(extras) == len(AGENCIES)  # one asset event per agency: the killed try emitted none
    lake = pl.read_parquet(settings.lake / "events" / "*" / "*" / "*.parquet", hive_partitioning=True)
    con = duckdb.connect(str(published_path(settings, "ibet")), read_only=True)
    n = con.execute("SELECT count(*) FROM fact_events").fetchall()[0][0]
    con.close()
    assert n == lake.filter(pl.col("caveat") == "REL_IBET").height > 0  # the published warehouse is the lake's
    print(f"\nCelery, two workers: worker1 SIGKILLed during {victim_dag}.{victim_task} (try {victim_try}); "
          f"retried and succeeded on worker2 {recovered:.0f} s later; task tries per worker {per_worker}; "
          f"whole test {time.monotonic() - started:.0f} s")

"""The Airflow pool that serializes warehouse writes, and how a deployment gets it.

Every task that writes the warehouse (the marts DAG's build, gate and publish, the purge DAG) runs in
the pool ``ibet_marts`` of one slot. ``max_active_runs=1`` already keeps two marts runs apart; the pool
also keeps the purge DAG's rebuild apart from them, and it holds across Celery workers on different
machines, where the build's file lock (one host only) does not. A trigger arriving while a build runs is
an asset event: it queues a marts run, which waits for the slot; nothing is lost.

A task in a pool that does not exist is never scheduled, so every way of starting Airflow creates it:
``ibet airflow ui`` (``ensure_pools``), docker-compose's ``airflow-init`` and the tests' clusters
(``airflow pools set``).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MARTS_POOL = "ibet_marts"
MARTS_POOL_SLOTS = 1
MARTS_POOL_DESCRIPTION = "one warehouse build, gate, publish or purge at a time"


def pool_command(airflow: str | Path | None = None) -> list[str]:
    """``airflow pools set ibet_marts 1 "…"`` (idempotent: it creates or resets the pool)."""
    exe = str(airflow or Path(sys.executable).with_name("airflow"))
    return [exe, "pools", "set", MARTS_POOL, str(MARTS_POOL_SLOTS), MARTS_POOL_DESCRIPTION]


def ensure_pools(env: dict[str, str], airflow: str | Path | None = None) -> None:
    """Create (or reset) the pool in the metadata database ``env`` points at."""
    done = subprocess.run(pool_command(airflow), env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"airflow pools set {MARTS_POOL} failed:\n{tail}")

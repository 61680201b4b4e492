"""Run the DAGs through Airflow on this machine: the demo (``dag.test`` per agency and day on
SQLite) and the environment both it and ``airflow standalone`` use."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from ibet.settings import Settings

PROJECT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = PROJECT / "dags"


def airflow_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for Airflow commands: AIRFLOW_HOME under IBET_HOME, our DAGs, no examples.

    Values already set (e.g. a PostgreSQL connection in production) win.
    """
    env = dict(os.environ if base is None else base)
    env.setdefault("AIRFLOW_HOME", str(settings.home / "airflow"))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_FOLDER))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("IBET_HOME", str(settings.home))
    return env


def migrate(env: dict[str, str]) -> None:
    """``airflow db migrate`` (idempotent; creates the SQLite file on first use)."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    done = subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"airflow db migrate failed:\n{tail}")


def run_demo(start: dt.date, days: int, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Each agency's ingest DAG for each day, then the marts DAG, all through ``dag.test``.

    Must run with the environment of ``airflow_env`` already applied (Airflow reads its
    configuration when first imported).
    """
    import logging

    from airflow.dag_processing.dagbag import DagBag

    from ibet.orchestration.factory import MARTS_DAG_ID, ingest_dag_id
    from ibet.registry import AGENCIES

    say = progress or (lambda _m: None)
    logging.getLogger("airflow").setLevel(logging.WARNING)
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    runs = []
    for i in range(days):
        day = start + dt.timedelta(days=i)
        # a daily run's data interval is [day, day + 1): it is created once that day is over
        logical = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
        for code in AGENCIES:
            say(f"{ingest_dag_id(code)} for {day}")
            run = bag.dags[ingest_dag_id(code)].test(logical_date=logical)
            counts = _xcom(run, "record_counts") or {}
            runs.append({"dag_id": run.dag_id, "extract_date": day.isoformat(), "state": str(run.state),
                         **{k: counts.get(k) for k in ("rows_read", "rows_loaded", "rows_quarantined")}})
    say(f"{MARTS_DAG_ID}")
    marts = bag.dags[MARTS_DAG_ID].test()
    build = _xcom(marts, "build") or {}
    return {"runs": runs, "marts": {"state": str(marts.state), "build": build, "gate": _xcom(marts, "quality_gate"),
                                    "published": _xcom(marts, "publish")},
            "asset_events": _asset_event_counts()}


def _xcom(run: Any, task_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.query(XComModel).filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id=task_id,
                                                 key="return_value").first()
        return None if row is None else XComModel.deserialize_value(row)


def _asset_event_counts() -> dict[str, int]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        rows = session.execute(select(AssetModel.name, func.count(AssetEvent.id)).join(
            AssetEvent, AssetEvent.asset_id == AssetModel.id).group_by(AssetModel.name)).all()
    return {name: n for name, n in rows}

"""Airflow on this machine: its environment, its config file, the UI, and the demo.

The demo runs every DAG through ``dag.test`` (in-process, fast) but creates **the very runs
the scheduler would have created**: scheduled runs with the timetable's run id, logical
date and data interval, and one asset-triggered marts run that consumes the ingest runs'
asset events. So ``make airflow-ui`` afterwards starts a scheduler that continues where the
demo stopped (next day's runs, sensors waiting) instead of colliding with demo runs.

``airflow.cfg`` is written by us, with paths relative to ``${AIRFLOW_HOME}``: a moved or
copied IBET_HOME uses its own metadata database, never the original's.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from foundation.settings import Settings
from ibet.orchestration.pools import ensure_pools

PROJECT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = PROJECT / "dags"
BIN = Path(sys.executable).parent  #: the venv's bin: `airflow standalone` starts its components from PATH
UI_PORT = 8080

AIRFLOW_CFG = """\
# Airflow configuration of this IBET home, written by `ibet` (it rewrites this file: configure
# with AIRFLOW__SECTION__KEY environment variables instead). Paths are relative to AIRFLOW_HOME,
# so a moved or copied home keeps using its own metadata database.
[core]
dags_folder = {dags}
load_examples = False
executor = LocalExecutor
dags_are_paused_at_creation = True
# local UI on the loopback interface only, everyone admin; production uses FAB logins (docker-compose.yml)
simple_auth_manager_all_admins = True
execution_api_server_url = http://127.0.0.1:{port}/execution/

[database]
sql_alchemy_conn = sqlite:///${{AIRFLOW_HOME}}/airflow.db

[logging]
base_log_folder = ${{AIRFLOW_HOME}}/logs

[api]
host = 127.0.0.1
port = {port}

[api_auth]
# one signing secret for every component of this home (made once, kept in this file, mode 0600)
jwt_secret = {jwt}
"""


def airflow_env(settings: Settings, base: dict[str, str] | None = None, port: int = UI_PORT) -> dict[str, str]:
    """Environment for Airflow commands: AIRFLOW_HOME under IBET_HOME, our DAGs, no examples, venv on PATH.

    Values already set (e.g. a PostgreSQL connection in production) win.
    """
    env = dict(os.environ if base is None else base)
    env.setdefault("AIRFLOW_HOME", str(settings.home / "airflow"))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_FOLDER))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("IBET_HOME", str(settings.home))
    path = env.get("PATH", "")
    if str(BIN) not in path.split(os.pathsep):
        env["PATH"] = os.pathsep.join([str(BIN), path]) if path else str(BIN)
    write_config(Path(env["AIRFLOW_HOME"]), port)
    return env


def write_config(airflow_home: Path, port: int = UI_PORT) -> Path:
    """Write ``airflow.cfg`` (ours: load_examples off, our DAGs, AIRFLOW_HOME-relative paths)."""
    import configparser
    import secrets

    airflow_home.mkdir(mode=0o750, parents=True, exist_ok=True)
    cfg = airflow_home / "airflow.cfg"
    jwt = None
    if cfg.is_file():
        old = configparser.ConfigParser(interpolation=None)
        old.read(cfg)
        jwt = old.get("api_auth", "jwt_secret", fallback=None)
    text = AIRFLOW_CFG.format(dags=DAGS_FOLDER, port=port, jwt=jwt or secrets.token_hex(32))
    if not cfg.is_file() or cfg.read_text() != text:
        fd, tmp = tempfile.mkstemp(prefix=".airflow.cfg.", dir=airflow_home)  # created 0600
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, cfg)
    return cfg


def migrate(env: dict[str, str]) -> None:
    """``airflow db migrate`` (idempotent; creates the SQLite file on first use), then the marts pool."""
    done = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"airflow db migrate failed:\n{tail}")
    ensure_pools(env, BIN / "airflow")


def standalone(env: dict[str, str]) -> int:
    """Run ``airflow standalone`` (scheduler, dag-processor, triggerer, API server + UI) until stopped."""
    migrate(env)
    return subprocess.call([str(BIN / "airflow"), "standalone"], env=env)


# ------------------------------------------------------------------ demo runs = scheduler runs
@contextmanager
def _as_scheduler(created: list[tuple[str, int]]) -> Iterator[None]:
    """Make ``dag.test`` create the run the scheduler would create, instead of a manual one.

    ``dag.test`` asks ``get_or_create_dagrun`` for a manual run; this replaces it for the
    duration of the demo with the scheduler's own recipe: an interval-scheduled DAG gets a
    ``scheduled`` run (the timetable's run id, logical date = data interval start, run
    after = the interval's end) and the DAG's next-run fields advance as the scheduler
    advances them; an asset-scheduled DAG gets an ``asset_triggered`` run that consumes the
    asset events recorded since its previous such run.
    """
    from unittest import mock

    import airflow.models.dagrun as dagrun_mod
    from airflow.models.dag import DagModel
    from airflow.timetables.simple import AssetTriggeredTimetable
    from airflow.utils import timezone
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    def create(*, dag: Any, logical_date: Any, session: Any, **_: Any) -> Any:
        now = timezone.utcnow()
        if isinstance(dag.timetable, AssetTriggeredTimetable):
            run = dag.create_dagrun(
                run_id=dagrun_mod.DagRun.generate_run_id(run_type=DagRunType.ASSET_TRIGGERED, logical_date=None,
                                                         run_after=now),
                logical_date=None, data_interval=None, run_after=now, run_type=DagRunType.ASSET_TRIGGERED,
                triggered_by=DagRunTriggeredByType.ASSET, state=DagRunState.RUNNING, start_date=now,
                session=session)
            events = _unconsumed_events(dag, now, session)
            run.consumed_asset_events.extend(events)
            created.append(("consumed", len(events)))
        else:
            # the scheduled run of the interval starting at D: the interval that ends at D's next tick
            interval = dag.timetable.infer_manual_data_interval(run_after=logical_date + dt.timedelta(days=1))
            existing = session.scalar(dagrun_mod.select(dagrun_mod.DagRun).where(
                dagrun_mod.DagRun.dag_id == dag.dag_id, dagrun_mod.DagRun.logical_date == logical_date))
            if existing is not None:  # re-running the demo replaces that day's run, as dag.test does
                session.delete(existing)
                session.commit()
            run = dag.create_dagrun(
                run_id=dag.timetable.generate_run_id(run_type=DagRunType.SCHEDULED, run_after=interval.end,
                                                     data_interval=interval, partition_key=None),
                logical_date=interval.start, data_interval=(interval.start, interval.end), run_after=interval.end,
                run_type=DagRunType.SCHEDULED, triggered_by=DagRunTriggeredByType.TIMETABLE,
                state=DagRunState.RUNNING, start_date=now, session=session)
            model = session.get(DagModel, dag.dag_id)
            if model is not None and (model.next_dagrun is None or model.next_dagrun <= interval.start):
                model.calculate_dagrun_date_fields(dag=dag, reference_run=run)
        session.commit()
        return run

    with mock.patch.object(dagrun_mod, "get_or_create_dagrun", create):
        yield


def _unconsumed_events(dag: Any, until: Any, session: Any) -> list[Any]:
    """Asset events of the DAG's assets newer than its last asset-triggered run (the scheduler's window)."""
    from sqlalchemy import func, select

    from airflow.models.asset import AssetDagRunQueue, AssetEvent, DagScheduleAssetReference
    from airflow.models.dagrun import DagRun
    from airflow.utils.types import DagRunType

    previous = session.scalar(select(func.max(DagRun.run_after)).where(
        DagRun.dag_id == dag.dag_id, DagRun.run_type == DagRunType.ASSET_TRIGGERED, DagRun.run_after < until))
    query = select(AssetEvent).where(
        AssetEvent.asset_id.in_(select(DagScheduleAssetReference.asset_id)
                                .where(DagScheduleAssetReference.dag_id == dag.dag_id)),
        AssetEvent.timestamp <= until).order_by(AssetEvent.timestamp, AssetEvent.id)
    if previous is not None:
        query = query.where(AssetEvent.timestamp > previous)
    events = list(session.scalars(query))
    session.query(AssetDagRunQueue).filter(AssetDagRunQueue.target_dag_id == dag.dag_id).delete()
    return events


def run_demo(start: dt.date, days: int, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Each agency's ingest DAG for each day, then the marts DAG, as the scheduler would run them.

    Must run with the environment of ``airflow_env`` already applied (Airflow reads its
    configuration when first imported).
    """
    import logging

    from airflow.dag_processing.dagbag import DagBag

    from ibet.orchestration.factory import MARTS_DAG_ID, ingest_dag_id
    from foundation.registry import AGENCIES

    say = progress or (lambda _m: None)
    logging.getLogger("airflow").setLevel(logging.WARNING)
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    for dag in bag.dags.values():
        # dag.test cannot evaluate deadline alerts (Airflow 3.3 looks the serialized alert up by an id that
        # only the dag-processor assigns); the demo's days are over anyway, and the real scheduler keeps them
        dag.deadline = None
    runs: list[dict[str, Any]] = []
    created: list[tuple[str, int]] = []
    with _as_scheduler(created):
        for i in range(days):
            day = start + dt.timedelta(days=i)
            logical = dt.datetime.combine(day, dt.time(), dt.timezone.utc)  # data interval [day, day + 1)
            for code in AGENCIES:
                say(f"{ingest_dag_id(code)} for {day}")
                run = bag.dags[ingest_dag_id(code)].test(logical_date=logical)
                counts = _xcom(run, "record_counts") or {}
                runs.append({"dag_id": run.dag_id, "run_id": run.run_id, "extract_date": day.isoformat(),
                             "state": str(run.state),
                             **{k: counts.get(k) for k in ("rows_read", "rows_loaded", "rows_quarantined")}})
        say(MARTS_DAG_ID)
        marts = bag.dags[MARTS_DAG_ID].test(logical_date=None)
    build = _xcom(marts, "build") or {}
    return {"runs": runs, "marts": {"state": str(marts.state), "run_id": marts.run_id, "build": build,
                                    "gate": _xcom(marts, "quality_gate"), "published": _xcom(marts, "publish"),
                                    "consumed_events": sum(n for kind, n in created if kind == "consumed")},
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

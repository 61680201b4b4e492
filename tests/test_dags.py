"""DAG integrity and hygiene: import errors, parse time, one DAG per registry agency, docs,
the extract sensor's deferral and its timeout message, and the task functions."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from foundation.registry import AGENCIES, sources
from transforms.pipelines import pipeline

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"

PARSE = """
import json, sys, time
import airflow.sdk  # the dag-processor has Airflow loaded before it parses a file
from airflow.dag_processing.dagbag import DagBag
out = {}
bag = DagBag(dag_folder=sys.argv[1])
for s in bag.dagbag_stats:
    out[s.file] = s.duration.total_seconds()
info = {d: {"owner": dag.owner, "tags": sorted(dag.tags), "doc": dag.doc_md or "", "tasks": sorted(dag.task_ids),
            "upstream": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks},
            "owner_links": dag.owner_links or {},
            "deadline": [{"reference": type(a.reference).__name__, "hours": a.interval.total_seconds() / 3600,
                          "callback": a.callback.path, "kwargs": a.callback.kwargs} for a in (dag.deadline or [])],
            "on_failure": [type(c).__name__ for t in dag.tasks for c in (t.on_failure_callback or [])],
            "retries": [t.retries for t in dag.tasks], "backoff": [t.retry_exponential_backoff for t in dag.tasks],
            "outlets": [o.name for t in dag.tasks for o in t.outlets], "catchup": dag.catchup,
            "schedule": repr(dag.timetable)[:200],
            "assets": sorted(a.name for a in getattr(getattr(dag.timetable, "asset_condition", None), "objects", ())),
            "watchers": sorted(w.name for a in getattr(getattr(dag.timetable, "asset_condition", None), "objects", ())
                               for w in (getattr(a, "watchers", None) or []))}
        for d, dag in bag.dags.items()}
heavy = [m for m in ("pandas", "pandera", "polars", "pyarrow", "duckdb", "great_expectations") if m in sys.modules]
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "parse": out, "dags": info,
                  "heavy": heavy}))
"""


def _parse(home, **extra: str) -> dict:
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS), "IBET_HOME": str(home / "ibet"), **extra}
    done = subprocess.run([sys.executable, "-c", PARSE, str(DAGS)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    return _parse(tmp_path_factory.mktemp("airflow"))


def test_a_bad_setting_is_a_clear_import_error(tmp_path):
    bag = _parse(tmp_path, IBET_EXTRACT_WAIT_HOURS="abc")
    assert bag["dags"] == {} or "ibet_ingest_rcmp" not in bag["dags"]
    message = bag["errors"][str(DAGS / "ibet_ingest.py")]
    assert message.strip().splitlines()[-1] == ("foundation.settings.SettingsError: invalid setting: IBET_EXTRACT_WAIT_HOURS: "
                                                "Input should be a valid number, unable to parse string as a number "
                                                "(got 'abc')")


def test_no_import_errors_and_one_dag_per_agency(dagbag):
    assert dagbag["errors"] == {}
    assert sorted(dagbag["dags"]) == sorted([f"ibet_ingest_{a}" for a in AGENCIES] + ["ibet_marts", "ibet_purge"])


#: A safety bound only (the suite runs on both cores of a busy machine): what keeps parsing light is
#: that no DAG file imports the data stack, asserted below; the times are printed for the record.
PARSE_SAFETY_S = 5.0


def test_parse_time_of_each_dag_file(dagbag):
    print()
    for f, seconds in sorted(dagbag["parse"].items()):
        print(f"parse time {Path(f).name}: {seconds * 1000:.0f} ms")
        assert seconds < PARSE_SAFETY_S, f"{f} takes {seconds:.2f} s to parse"
    assert dagbag["heavy"] == []  # parsing imports none of pandas, pandera, polars, pyarrow, duckdb, GX
    assert {Path(f).name for f in dagbag["parse"]} == {"ibet_ingest.py", "ibet_marts.py", "ibet_purge.py",
                                                       "ibet_push.py"}


def test_push_dag_only_when_enabled_watching_redis(tmp_path):
    bag = _parse(tmp_path, IBET_PUSH_ENABLED="true", IBET_PUSH_CHANNEL="ibet.extracts.test")
    assert bag["errors"] == {}
    push = bag["dags"]["ibet_push"]
    assert push["assets"] == ["ibet_extract_announcements"] and push["watchers"] == ["ibet_redis_announcements"]
    assert push["tasks"] == sorted(["read_announcements", *(f"ingest_{a}" for a in AGENCIES)])
    assert push["upstream"] == {"read_announcements": [], **{f"ingest_{a}": ["read_announcements"] for a in AGENCIES}}
    assert sorted(push["outlets"]) == sorted(f"ibet_lake_{a}" for a in AGENCIES)
    assert max(bag["parse"].values()) < PARSE_SAFETY_S and bag["heavy"] == []


def test_dag_hygiene(dagbag):
    for dag_id, d in dagbag["dags"].items():
        assert d["owner"] and d["owner"] != "airflow", dag_id
        assert "ibet" in d["tags"] and len(d["tags"]) >= 3, dag_id
        assert len(d["doc"]) > 200, dag_id
        # every task retries, except the quality gate (a failed expectation does not heal by retrying)
        assert sum(r == 0 for r in d["retries"]) <= (1 if dag_id == "ibet_marts" else 0), dag_id
    for code, agency in AGENCIES.items():
        d = dagbag["dags"][f"ibet_ingest_{code}"]
        assert d["tasks"] == ["ingest", "pull_extract", "record_counts", "wait_for_extract"]
        # a chain, not two roots: the pull, then the wait for the file, ingest, counts
        assert d["upstream"] == {"pull_extract": [], "wait_for_extract": ["pull_extract"],
                                 "ingest": ["wait_for_extract"], "record_counts": ["ingest"]}
        assert d["deadline"] == [{"reference": "DagRunQueuedAtDeadline", "hours": 6.0,
                                  "callback": "ibet.orchestration.alerts.extract_late",
                                  "kwargs": {"agency": code, "hours": 6.0}}]
        assert d["outlets"] == [f"ibet_lake_{code}"]
        assert d["catchup"] is True and "CronDataIntervalTimetable" in d["schedule"]
        assert code in d["tags"]
        # the contract, with privacy classes, is what the UI shows
        for s in agency.sources:
            assert s.title in d["doc"]
        assert "| privacy |" in d["doc"]
    assert "identifier → person_key" in dagbag["dags"]["ibet_ingest_rcmp"]["doc"]
    marts = dagbag["dags"]["ibet_marts"]
    assert marts["assets"] == sorted(f"ibet_lake_{a}" for a in AGENCIES)
    assert marts["tasks"] == ["build", "plan", "publish", "quality_gate"]
    assert marts["upstream"] == {"plan": [], "build": ["plan"], "quality_gate": ["build"], "publish": ["quality_gate"]}
    purge = dagbag["dags"]["ibet_purge"]
    assert purge["tasks"] == ["purge"] and purge["catchup"] is False and "CronDataIntervalTimetable" in purge["schedule"]
    for dag_id, d in dagbag["dags"].items():
        # every task alerts on failure; the owner is reachable from the UI
        assert d["on_failure"] == ["FailureAlert"] * len(d["tasks"]), dag_id
        assert d["owner_links"] == {d["owner"]: "mailto:ibet-data-engineering@example.org"}, dag_id


def test_contract_docs_are_up_to_date():
    from contracts.base import describe_markdown

    for s in sources():
        doc = DAGS / "contract_docs" / f"{s.name}.md"
        assert doc.exists(), f"run `make dag-docs` ({doc} missing)"
        assert doc.read_text() == describe_markdown(pipeline(s.name).contract), f"run `make dag-docs` ({doc} is stale)"


def test_sensor_defers_until_the_file_lands_and_times_out_clearly(home):
    from airflow.providers.standard.triggers.file import FileTrigger
    from airflow.sdk.bases.operator import TRIGGER_FAIL_REPR, TriggerFailureReason
    from airflow.sdk.exceptions import AirflowSensorTimeout, TaskDeferred

    from ibet.orchestration.sensors import ExtractSensor

    sensor = ExtractSensor(task_id="wait_for_extract", agency="cbp", timeout=7200, poll_seconds=5)
    start = dt.datetime(2026, 11, 5, tzinfo=dt.timezone.utc)
    context = {"data_interval_start": start}
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context)
    trigger = deferred.value.trigger
    assert isinstance(trigger, FileTrigger) and trigger.filepath.endswith("cbp/CBP_NB_20261105.csv")
    assert deferred.value.timeout == dt.timedelta(hours=2)
    with pytest.raises(AirflowSensorTimeout) as timeout:
        sensor.resume_execution(TRIGGER_FAIL_REPR, {"error": TriggerFailureReason.TRIGGER_TIMEOUT}, context)
    message = str(timeout.value)
    assert "no cbp extract for 2026-11-05 after 2.0 h" in message and "CBP_NB_20261105.csv" in message
    (home.inbox / "cbp").mkdir(parents=True)
    (home.inbox / "cbp" / "CBP_NB_20261105.csv").write_text("x")
    assert sensor.execute(context) is None  # file there: no deferral
    # program files are optional: the sensor waits for any of them, the DAG skips the wait when none come
    program = ExtractSensor(task_id="w", agency="program", timeout=60, soft_fail=True)
    assert program.poke(context) is False


def test_ingest_day_is_idempotent_and_counts_reconcile(home):
    from ibet.generator import generate
    from ibet.orchestration.tasks import RejectedExtract, ingest_day, plan_from_events, verify_counts

    day = dt.date(2026, 11, 2)
    generate(home.inbox, day, 1, 40, seed=9, dirty_rate=0.05)
    first = ingest_day("rcmp", day, home)
    lake = sorted(p for p in home.lake.rglob("*.parquet"))
    snap = {p: p.read_bytes() for p in lake}
    again = ingest_day("rcmp", day, home)
    assert again == first and {p: p.read_bytes() for p in lake} == snap
    counts = verify_counts(first, home)
    assert counts["rows_read"] == 40 == counts["rows_loaded"] + counts["rows_quarantined"]
    program = ingest_day("program", day, home)  # daily program files plus the finance files not yet ingested
    assert any(f.startswith("finance_") for f in program["files"])
    assert not any(f.startswith("finance_") for f in ingest_day("program", day, home)["files"])
    with pytest.raises(FileNotFoundError, match="missing CBP_NB_20261103.csv"):
        ingest_day("cbp", day + dt.timedelta(days=1), home)
    (home.inbox / "cbp" / "CBP_NB_20261104.csv").write_text("not|the|header\n")
    with pytest.raises(RejectedExtract, match="CBP_NB_20261104.csv") as rejected:
        ingest_day("cbp", day + dt.timedelta(days=2), home)
    assert str(rejected.value).count("CBP_NB_20261104.csv") == 1  # named once
    plan = plan_from_events([{"agency": "rcmp", "extract_date": "2026-11-02", "rows_loaded": 38},
                             {"agency": "rcmp", "extract_date": "2026-11-03", "rows_loaded": 2}, {}])
    assert plan == {"landed": {"rcmp": {"extract_dates": ["2026-11-02", "2026-11-03"], "rows_loaded": 40}},
                    "triggered_by_events": True}

"""Airflow on this machine: the demo, the UI, and the environment for plain `airflow` commands."""
from __future__ import annotations

import datetime as dt
import os
import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ibet.cli.common import CONTEXT, Exit, console, err, fail, home, say, state

airflow_app = typer.Typer(help="Run the pipeline through Airflow on this machine.", no_args_is_help=True,
                          context_settings=CONTEXT)


@airflow_app.command("env")
def airflow_env() -> None:
    """Print the environment (shell `export` lines) under which plain `airflow` commands see this home."""
    from ibet.orchestration import local

    env = local.airflow_env(home(), base={})
    for k in sorted(env):
        typer.echo(f"export {k}={shlex.quote(env[k])}")


@airflow_app.command("ui")
def airflow_ui(
    port: Annotated[int, typer.Option(help="Port of the UI and API server (loopback only).")] = 8080,
) -> None:
    """Start Airflow (scheduler, dag-processor, triggerer, UI) on this home's SQLite database until Ctrl-C."""
    from ibet.orchestration import local

    settings = home().ensure()
    env = local.airflow_env(settings, port=port)
    env["AIRFLOW__API__PORT"] = str(port)
    say(f"Airflow UI: http://127.0.0.1:{port}  (DAGs from {env['AIRFLOW__CORE__DAGS_FOLDER']}, "
        f"metadata in {env['AIRFLOW_HOME']}; Ctrl-C stops it)")
    raise typer.Exit(local.standalone(env))


@airflow_app.command("demo")
def airflow_demo(
    start: Annotated[str, typer.Option(help="First extract date.")] = "2026-11-02",
    days: Annotated[int, typer.Option(min=1)] = 7,
) -> None:
    """Each agency's ingest DAG per day, then the marts DAG, as the scheduler would run them (dag.test, SQLite)."""
    from ibet.orchestration import local

    settings = home().ensure()
    try:
        first = dt.date.fromisoformat(start)
    except ValueError:
        fail(f"--start {start!r} is not a YYYY-MM-DD date", Exit.USAGE)
    env = local.airflow_env(settings)
    env.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")  # task logs stay in the metadata/log files
    os.environ.update(env)  # before Airflow is imported: it reads its configuration once
    with console.status("airflow db migrate…"):
        local.migrate(env)
    with console.status("running DAGs…") as status:
        result = local.run_demo(first, days, progress=lambda m: status.update(f"dag.test {m}"))
    if not state.quiet:
        t = Table(title="Airflow DAG runs (the scheduler's runs, executed by dag.test)")
        for c in ("dag", "run id", "state", "read", "loaded", "quarantined"):
            t.add_column(c, justify="right" if c in ("read", "loaded", "quarantined") else "left")
        for r in result["runs"]:
            t.add_row(r["dag_id"], r["run_id"], r["state"],
                      *(f"{r[k]:,}" if r[k] is not None else "-" for k in ("rows_read", "rows_loaded",
                                                                           "rows_quarantined")))
        console.print(t)
    events = ", ".join(f"{k}={v}" for k, v in sorted(result["asset_events"].items()))
    say(f"asset events recorded: {events}")
    marts, build = result["marts"], result["marts"]["build"]
    published = ", ".join(Path(p).name for p in (marts["published"] or {}).get("published", [])) or "nothing new"
    say(f"ibet_marts {marts['run_id']}: {marts['state']}, consumed {marts['consumed_events']} asset events; build "
        f"{'skipped (up to date)' if build.get('skipped') else 'done'} in {build.get('seconds', 0)} s; "
        f"published: {published}")
    gate = marts.get("gate") or {}
    if gate.get("message"):
        say(f"quality gate: {gate['message']}")
        say(f"quality report: {gate['docs_index']}")
    say(f"data dictionary: {settings.docs / 'index.html'}")
    say("Airflow UI (continues from these runs): make airflow-ui   (or: ibet airflow ui), then http://127.0.0.1:8080")
    failed = [r for r in result["runs"] if r["state"] != "success"] + (
        [] if marts["state"] == "success" else [{"dag_id": "ibet_marts"}])
    if failed:
        err.print(f"[red]{len(failed)} DAG run(s) failed[/red]")
        raise typer.Exit(int(Exit.FAILED))

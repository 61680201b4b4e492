"""``ibet``: the command line of the warehouse (typer + rich)."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from ibet.keys import MissingKeyError, create_key, load_key
from ibet.registry import AGENCIES, sources
from ibet.settings import get_settings

app = typer.Typer(help="IBET shared intelligence warehouse.", no_args_is_help=True, add_completion=False)
console = Console(width=None if sys.stdout.isatty() else 160)  # wide tables in logs and pipes
err = Console(stderr=True, soft_wrap=True)


def _key_or_exit() -> bytes:
    try:
        return load_key(get_settings())
    except MissingKeyError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(3) from None


@app.command()
def keygen(force: bool = typer.Option(False, help="Replace an existing key (every pseudonym changes).")) -> None:
    """Create the pseudonymization key file under IBET_HOME/keys (mode 0600)."""
    settings = get_settings().ensure()
    try:
        path = create_key(settings, force=force)
    except FileExistsError as exc:
        err.print(f"[yellow]{exc}[/yellow]")
        raise typer.Exit(1) from None
    console.print(f"key written to {path} (mode 0600)")


@app.command()
def generate(
    out: Path = typer.Option(None, help="Folder to write into (default IBET_HOME/inbox)."),
    start: str = typer.Option("2026-11-02", help="First extract date, YYYY-MM-DD."),
    days: int = typer.Option(7, min=1),
    rows_per_day: int = typer.Option(500, min=1, help="Records per agency per day."),
    seed: int = typer.Option(42),
    dirty_rate: float = typer.Option(0.02, min=0.0, max=0.5, help="Share of records corrupted on purpose."),
) -> None:
    """Write synthetic partner extracts exactly as the ICD says, with a ground-truth manifest."""
    from ibet.generator import GROUND_TRUTH
    from ibet.generator import generate as run

    target = out or get_settings().inbox
    try:
        first = dt.date.fromisoformat(start)
    except ValueError:
        err.print(f"[red]error:[/red] --start {start!r} is not a YYYY-MM-DD date")
        raise typer.Exit(2) from None
    with console.status("generating…") as status:
        truth = run(target, first, days, rows_per_day, seed, dirty_rate,
                    progress=lambda f: status.update(f"generating {f}"))
    console.print(f"{len(truth['files'])} files written under {target}; ground truth in {target / GROUND_TRUTH}")


def _result_table(results: list) -> Table:
    t = Table(title="ingest")
    for c in ("agency", "file", "status", "read", "loaded", "quarantined", "reason"):
        t.add_column(c, justify="right" if c in ("read", "loaded", "quarantined") else "left",
                     overflow="fold", no_wrap=c == "file")
    for r in results:
        t.add_row(r.agency, r.file, "[green]loaded[/green]" if r.ok else "[red]rejected[/red]", str(r.rows_read),
                  str(r.rows_loaded), str(r.rows_quarantined), r.reason or "")
    return t


@app.command()
def ingest(
    agency: str = typer.Argument(..., help=f"One of: {', '.join(AGENCIES)}"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The extract to ingest."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object instead of a table."),
) -> None:
    """Validate, pseudonymize and load one extract; exit 2 when the file is rejected."""
    from ibet.ingest import ingest_file

    key = _key_or_exit()
    try:
        result = ingest_file(agency, file, key=key)
    except (KeyError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc.args[0] if exc.args else exc}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), sort_keys=True))
    else:
        console.print(_result_table([result]))
    if not result.ok:
        err.print(f"rejected: {result.reason}")
        raise typer.Exit(2)


@app.command("ingest-inbox")
def ingest_inbox(
    agency: Optional[list[str]] = typer.Option(None, "--agency", help="Limit to these agencies."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ingest every extract waiting in IBET_HOME/inbox, in date order, with progress."""
    from rich.progress import Progress

    from ibet.ingest import ingest_file

    settings = get_settings().ensure()
    key = _key_or_exit()
    todo = []
    for s in sources():
        if agency and s.agency not in agency:
            continue
        for f in sorted((settings.inbox / s.agency).glob(s.file_glob)):
            if s.match(f.name) is not None:
                todo.append((s.match(f.name), s.agency, f))
    todo.sort()
    results = []
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("ingesting", total=len(todo))
        for _, ag, f in todo:
            progress.update(task, description=f"{ag}/{f.name}")
            results.append(ingest_file(ag, f, settings=settings, key=key))
            progress.advance(task)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in results], sort_keys=True))
    else:
        console.print(_result_table(results))
        tot = [sum(getattr(r, a) for r in results) for a in ("rows_read", "rows_loaded", "rows_quarantined")]
        console.print(f"{len(results)} files: read {tot[0]:,}, loaded {tot[1]:,}, quarantined {tot[2]:,}, "
                      f"rejected files {sum(not r.ok for r in results)}")
    if any(not r.ok for r in results):
        raise typer.Exit(2)


@app.command()
def contracts(
    source: Optional[str] = typer.Argument(None, help="Source name; all when omitted."),
    write: Optional[Path] = typer.Option(None, "--write", help="Write one <source>.md per contract into this folder "
                                                                  "(the DAG docs shown in the Airflow UI)."),
) -> None:
    """Print the data contracts (columns, types, privacy classes, rules) as Markdown."""
    from contracts.base import describe_markdown

    for s in sources():
        if source in (None, s.name):
            text = describe_markdown(s.contract().CONTRACT)
            if write is not None:
                write.mkdir(parents=True, exist_ok=True)
                (write / f"{s.name}.md").write_text(text)
                console.print(f"wrote {write / f'{s.name}.md'}")
            else:
                typer.echo(f"## {s.title} (`{s.agency}/{s.file_glob}`)\n")
                typer.echo(text)


def _display(v: object) -> str:
    """Terminal rendering of a cell: shares with 4 digits, big amounts without cents."""
    if v is None:
        return ""
    if isinstance(v, float):
        if abs(v) < 1:
            return f"{v:.4g}"
        return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


EXPORT_FORMATS = ("table", "csv", "json", "md", "xlsx")


def _check_format(fmt: str) -> None:
    """Refuse an unknown --format before any work is done."""
    if fmt not in EXPORT_FORMATS:
        err.print(f"[red]error:[/red] --format must be {', '.join(EXPORT_FORMATS)}")
        raise typer.Exit(2)


def _emit(columns: list[str], rows: list, fmt: str, output: Optional[Path], title: str) -> None:
    """Print or write a result in the chosen format (CSV/XLSX made safe for spreadsheets)."""
    from ibet import exports

    if fmt == "xlsx":
        if output is None:
            err.print("[red]error:[/red] --format xlsx needs --output FILE.xlsx")
            raise typer.Exit(2)
        exports.write_xlsx(output, columns, rows, sheet=title)
        console.print(f"{len(rows)} rows written to {output}")
        return
    if fmt == "table":
        keep = [i for i, c in enumerate(columns) if any(r[i] not in (None, "") for r in rows) or not rows]
        t = Table(title=title)
        for i in keep:
            t.add_column(columns[i], overflow="fold", no_wrap=i == keep[0],
                         justify="right" if any(isinstance(r[i], (int, float)) for r in rows) else "left")
        for r in rows:
            t.add_row(*(_display(r[i]) for i in keep))
        if output is not None:
            err.print("[yellow]--output is ignored with --format table[/yellow]")
        console.print(t)
        return
    text = {"csv": exports.to_csv, "json": exports.to_json, "md": exports.to_markdown}[fmt](columns, rows)
    if output is not None:
        output.write_text(text)
        console.print(f"{len(rows)} rows written to {output}")
    else:
        typer.echo(text, nl=False)


@app.command()
def build(
    full: bool = typer.Option(False, "--full", help="Reload the whole lake (e.g. after a key rotation)."),
    force: bool = typer.Option(False, "--force", help="Build even when nothing changed."),
    no_publish: bool = typer.Option(False, "--no-publish", help="Build the .new files but do not publish them."),
    no_gate: bool = typer.Option(False, "--no-gate", help="Skip the Great Expectations gate (not for production)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Build the warehouse from the lake, audit it (quality gate), publish one DuckDB file per audience."""
    from warehouse.build import BuildLockedError, build_all
    from warehouse.runner import SqlFileError

    settings = get_settings().ensure()
    try:
        with console.status("building…") as status:
            result = build_all(settings, full=full, force=force, publish_files=not no_publish, gate=not no_gate,
                               progress=lambda m: status.update(m))
    except (BuildLockedError, SqlFileError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result.summary(), sort_keys=True))
    elif result.skipped:
        console.print("warehouse is up to date (nothing changed in the lake, reference data or marts); "
                      "use --force to rebuild")
    else:
        t = Table(title=f"warehouse build ({'full' if result.refresh.full else 'incremental'}: "
                        f"{len(result.refresh.changed)} partitions loaded, {len(result.refresh.removed)} removed)")
        for c in ("audience", "file", "events", "indicators", "seconds"):
            t.add_column(c, justify="right" if c in ("events", "indicators", "seconds") else "left")
        for a, b in result.audiences.items():
            t.add_row(a, str(b.published if result.published else b.candidate), str(b.tables.get("fact_events", "-")),
                      str(b.tables.get("mart_indicators", "-")), f"{b.seconds:.1f}")
        console.print(t)
        if result.gate:
            ok = result.gate.get("success")
            console.print(f"quality gate: {'[green]passed[/green]' if ok else '[red]FAILED[/red]'} — {result.gate_message}")
            console.print(f"Data Docs: {result.gate.get('docs_index')}")
        if result.rejected_to:
            err.print(f"[red]build blocked by the quality gate; published files unchanged; rejected build kept in "
                      f"{result.rejected_to}[/red]")
        console.print("published" if result.published else "[yellow]not published[/yellow]",
                      f"in {result.seconds:.1f} s")
    if not result.published and not result.skipped and not no_publish:
        raise typer.Exit(1)


@app.command()
def check(
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run the quality gate on demand: on the unpublished build if there is one, else on the published files."""
    from warehouse.build import candidates, published_path
    from warehouse.quality.gate import run_gate
    from ibet.settings import AUDIENCES

    settings = get_settings().ensure()
    files = {a: b.candidate for a, b in candidates(settings).items()} or {
        a: published_path(settings, a) for a in AUDIENCES if published_path(settings, a).exists()}
    if not files:
        err.print("[red]error:[/red] nothing to check: run `ibet build` first")
        raise typer.Exit(2)
    with console.status("running the quality gate (Great Expectations)…"):
        result = run_gate(settings, files)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), sort_keys=True))
    else:
        t = Table(title=f"quality gate {result.run_at}")
        for c in ("file", "suite", "result", "expectations", "failed"):
            t.add_column(c, overflow="fold")
        for o in result.outcomes:
            status = "[green]pass[/green]" if o.success else ("[red]FAIL[/red]" if o.blocking else "[yellow]warn[/yellow]")
            t.add_row(o.audience, o.suite, status, str(o.evaluated), "; ".join(o.failed))
        console.print(t)
        console.print(f"Data Docs: {result.docs_index}")
    if not result.success:
        raise typer.Exit(1)


@app.command()
def sql(
    query: str = typer.Argument(..., help="A SELECT (read-only)."),
    audience: str = typer.Option("ibet", "--audience", "-a", help="ibet, can, usa or evaluator."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv, json, md or xlsx."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to a file instead of the terminal."),
) -> None:
    """Query a published audience file (read-only; file access disabled)."""
    import duckdb

    from warehouse import access

    _check_format(fmt)
    try:
        columns, rows = access.query(get_settings(), audience, query)
    except (KeyError, FileNotFoundError) as exc:
        err.print(f"[red]error:[/red] {exc.args[0] if exc.args else exc}")
        raise typer.Exit(2) from None
    except duckdb.Error as exc:
        err.print(f"[red]query failed:[/red] {exc}")
        raise typer.Exit(1) from None
    _emit(columns, rows, fmt, output, f"{audience}: {len(rows)} rows")


@app.command()
def indicators(
    fiscal_year: str = typer.Option(..., "--fiscal-year", "-y", help="2006-07 (Canada, April-March) or FY2007 (US)."),
    region: str = typer.Option("ALL", "--region", help="A region code, or ALL."),
    audience: str = typer.Option("evaluator", "--audience", "-a"),
    only: Optional[list[str]] = typer.Option(None, "--indicator", "-i", help="Show only these indicators."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv, json, xlsx or md."),
    output: Optional[Path] = typer.Option(None, "--output", "-o"),
) -> None:
    """Program performance indicators for one fiscal year, per partner (suppressed below 5)."""
    from warehouse.indicators import indicator_table

    _check_format(fmt)
    try:
        columns, rows = indicator_table(get_settings(), fiscal_year, audience=audience, region=region)
    except (ValueError, KeyError, LookupError, FileNotFoundError) as exc:
        err.print(f"[red]error:[/red] {exc.args[0] if exc.args else exc}")
        raise typer.Exit(2) from None
    if only:
        unknown = set(only) - {r[0] for r in rows}
        if unknown:
            err.print(f"[red]error:[/red] no such indicator for this year: {', '.join(sorted(unknown))}; "
                      f"known: {', '.join(dict.fromkeys(r[0] for r in rows))}")
            raise typer.Exit(2)
        rows = [r for r in rows if r[0] in only]
    _emit(columns, rows, fmt, output, f"indicators {fiscal_year} (region {region})")


report_app = typer.Typer(help="Rendered reports for evaluators.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("dpr")
def report_dpr(
    fiscal_year: str = typer.Option(..., "--fiscal-year", "-y", help="Canadian fiscal year, e.g. 2006-07."),
    fmt: str = typer.Option("md", "--format", "-f", help="md or html."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to a file (default: print)."),
    audience: str = typer.Option("evaluator", "--audience", "-a"),
) -> None:
    """The horizontal-initiative table in the shape of the RCMP's FY2006-07 report."""
    from warehouse.reports import render_dpr

    try:
        text = render_dpr(get_settings(), fiscal_year, fmt=fmt, audience=audience)
    except (ValueError, KeyError, LookupError, FileNotFoundError) as exc:
        err.print(f"[red]error:[/red] {exc.args[0] if exc.args else exc}")
        raise typer.Exit(2) from None
    if output is not None:
        output.write_text(text)
        console.print(f"report written to {output}")
    else:
        typer.echo(text, nl=False)


airflow_app = typer.Typer(help="Run the pipeline through Airflow on this machine.", no_args_is_help=True)
app.add_typer(airflow_app, name="airflow")


@airflow_app.command("demo")
def airflow_demo(
    start: str = typer.Option("2026-11-02", help="First extract date."),
    days: int = typer.Option(7, min=1),
) -> None:
    """Each agency's ingest DAG per day, then the marts DAG, through Airflow's dag.test (SQLite)."""
    import os

    from ibet.orchestration import local

    settings = get_settings().ensure()
    env = local.airflow_env(settings)
    env.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")  # task logs stay in the metadata/log files
    os.environ.update(env)  # before Airflow is imported: it reads its configuration once
    with console.status("airflow db migrate…"):
        local.migrate(env)
    with console.status("running DAGs…") as status:
        result = local.run_demo(dt.date.fromisoformat(start), days, progress=lambda m: status.update(f"dag.test {m}"))
    t = Table(title="Airflow DAG runs (dag.test)")
    for c in ("dag", "extract date", "state", "read", "loaded", "quarantined"):
        t.add_column(c, justify="right" if c in ("read", "loaded", "quarantined") else "left")
    for r in result["runs"]:
        t.add_row(r["dag_id"], r["extract_date"], r["state"], *(f"{r[k]:,}" if r[k] is not None else "-"
                                                                 for k in ("rows_read", "rows_loaded",
                                                                           "rows_quarantined")))
    console.print(t)
    events = ", ".join(f"{k}={v}" for k, v in sorted(result["asset_events"].items()))
    console.print(f"asset events recorded: {events}")
    build = result["marts"]["build"]
    console.print(f"ibet_marts: {result['marts']['state']}; build "
                  f"{'skipped (up to date)' if build.get('skipped') else 'done'} in {build.get('seconds', 0)} s; "
                  f"published: {', '.join(Path(p).name for p in (result['marts']['published'] or {}).get('published', [])) or 'nothing new'}")
    gate = result["marts"].get("gate") or {}
    if gate.get("message"):
        console.print(f"quality gate: {gate['message']}")
        console.print(f"Data Docs (open in a browser): {gate['docs_index']}")
    failed = [r for r in result["runs"] if r["state"] != "success"] + (
        [] if result["marts"]["state"] == "success" else [{"dag_id": "ibet_marts"}])
    console.print(f"Airflow UI: AIRFLOW_HOME={env['AIRFLOW_HOME']} AIRFLOW__CORE__DAGS_FOLDER="
                  f"{env['AIRFLOW__CORE__DAGS_FOLDER']} IBET_HOME={settings.home} .venv/bin/airflow standalone"
                  f"   (or: make airflow-ui), then http://localhost:8080")
    if failed:
        err.print(f"[red]{len(failed)} DAG run(s) failed[/red]")
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

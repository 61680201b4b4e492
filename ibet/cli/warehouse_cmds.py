"""Commands on the warehouse: build, check, and the analysts' sql, tables, describe, shell, docs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ibet.cli.common import JSON_ALIAS, Audience, Exit, StatusFormat, TableFormat, console, emit, err, fail, home, \
    print_json, say, state, status_format

#: Rows `ibet sql` shows in a terminal table unless told otherwise.
DEFAULT_LIMIT = 40


def build(
    full: Annotated[bool, typer.Option("--full", help="Reload the whole lake (e.g. after a key rotation).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Build even when nothing changed.")] = False,
    no_publish: Annotated[bool, typer.Option("--no-publish", help="Build and audit, but do not publish.")] = False,
    no_gate: Annotated[bool, typer.Option("--no-gate", help="Skip the Great Expectations gate (not for "
                                                            "production).")] = False,
    verify: Annotated[bool, typer.Option("--verify", help="Check every lake file and published file against its "
                                                          "recorded SHA-256, not only the changed ones.")] = False,
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f", help="Output format.")] = "table",
    as_json: bool = JSON_ALIAS,
) -> None:
    """Build the warehouse from the lake, audit it (quality gate), publish one DuckDB file per audience."""
    from warehouse.build import BuildLockedError, PublishError, build_all
    from warehouse.constraints import ConstraintError
    from warehouse.runner import SqlFileError
    from warehouse.staging import LakeIntegrityError, MixedKeysError

    settings = home(lake=True).ensure()
    try:
        with console.status("building…") as status:
            result = build_all(settings, full=full, force=force, publish_files=not no_publish, gate=not no_gate,
                               progress=lambda m: status.update(m), verify=verify)
    except (BuildLockedError, SqlFileError, ConstraintError, PublishError, LakeIntegrityError,
            MixedKeysError) as exc:
        fail(str(exc))
    if status_format(fmt, as_json) == "json":
        print_json(result.summary())
    elif result.skipped:
        say("warehouse is up to date (nothing changed in the lake, reference data or marts); use --force to rebuild")
    elif not state.quiet:
        t = Table(title=f"warehouse build (staging {'reloaded' if result.refresh.full else 'refreshed'}: "
                        f"{len(result.refresh.changed)} partitions loaded, {len(result.refresh.removed)} removed)")
        for c in ("audience", "file", "built", "events", "indicators", "seconds"):
            t.add_column(c, justify="right" if c in ("events", "indicators", "seconds") else "left")
        for a, b in result.audiences.items():
            how = "in full" if b.touched_events is None else f"{b.touched_events:,} events redone"
            t.add_row(a, str(b.published if result.published else b.candidate), how,
                      f"{b.tables.get('fact_events', '-'):,}" if "fact_events" in b.tables else "-",
                      f"{b.tables.get('mart_indicators', 0):,}", f"{b.seconds:.1f}")
        console.print(t)
        if result.gate:
            ok = result.gate.get("success")
            console.print(f"quality gate: {'[green]passed[/green]' if ok else '[red]FAILED[/red]'} — "
                          f"{result.gate_message}")
            console.print(f"quality report: {result.gate.get('docs_index')}")
        if result.published:
            console.print(f"data dictionary: {settings.docs / 'index.html'}")
        console.print("published" if result.published else "[yellow]not published[/yellow]",
                      f"in {result.seconds:.1f} s")
    if result.rejected_to:
        err.print(f"[red]build blocked by the quality gate; published files unchanged; rejected build kept in "
                  f"{result.rejected_to}[/red]")
    if not result.published and not result.skipped and not no_publish:
        raise typer.Exit(int(Exit.FAILED))


def check(
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f", help="Output format.")] = "table",
    as_json: bool = JSON_ALIAS,
) -> None:
    """Run the quality gate on demand: on the unpublished build if there is one, else on the published files."""
    from warehouse.build import candidates
    from warehouse.publish import PublishedIntegrityError, published_set, verify_published
    from warehouse.quality.gate import run_gate
    from warehouse.staging import LakeIntegrityError, _lake_partitions, verify_files
    from transforms.canonical import TABLES

    settings = home().ensure()
    try:  # integrity first, always: every lake file and every published file against its recorded digest
        store = settings.lake_store
        verify_files(store, sorted(p for t in TABLES for p in _lake_partitions(store, t)))
        verify_published(settings)
    except (LakeIntegrityError, PublishedIntegrityError) as exc:
        fail(str(exc))
    files = {a: b.candidate for a, b in (candidates(settings) or published_set(settings)).items()}
    if not files:
        fail("nothing to check: run `ibet build` first", Exit.NOT_FOUND)
    with console.status("running the quality gate (Great Expectations)…"):
        result = run_gate(settings, files)
    if status_format(fmt, as_json) == "json":
        print_json(result.to_dict())
    elif not state.quiet:
        t = Table(title=f"quality gate {result.run_at}")
        for c in ("file", "suite", "result", "expectations", "failed"):
            t.add_column(c, overflow="fold")
        for o in result.outcomes:
            status = "[green]pass[/green]" if o.success else ("[red]FAIL[/red]" if o.blocking else "[yellow]warn[/yellow]")
            t.add_row(o.audience, o.suite, status, str(o.evaluated), "; ".join(o.failed))
        console.print(t)
        console.print(f"quality report: {result.docs_index}")
    if not result.success:
        raise typer.Exit(int(Exit.FAILED))


def _open(call, *args):  # noqa: ANN001, ANN202 - maps access errors to exit codes
    import duckdb

    from warehouse.access import NotPublishedError

    try:
        return call(*args)
    except NotPublishedError as exc:
        fail(str(exc), Exit.NOT_FOUND)
    except KeyError as exc:
        fail(str(exc.args[0] if exc.args else exc), Exit.USAGE)
    except duckdb.Error as exc:
        fail(f"query failed: {str(exc).strip()}")


def sql(
    query: Annotated[str, typer.Argument(help="A SELECT (read-only).")],
    audience: Annotated[Audience, typer.Option("--audience", "-a", help="Which published file.")] = "ibet",
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = "table",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to a file.")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", "-n", min=1, help=f"Rows to return (default "
                                                 f"{DEFAULT_LIMIT} in a terminal table, all otherwise).")] = None,
    all_rows: Annotated[bool, typer.Option("--all", help="Every row, also in a terminal table.")] = False,
) -> None:
    """Query a published audience file (read-only; file access disabled)."""
    from warehouse import access

    settings = home()
    cap = None if all_rows else (limit or (DEFAULT_LIMIT if fmt == "table" else None))
    result = _open(access.query, settings, audience, query, cap)
    emit(result.columns, result.rows, fmt, output, f"{audience}.duckdb", total=result.total,
         hint="use --limit N or --all, or -f csv")


def tables(
    audience: Annotated[Audience, typer.Option("--audience", "-a", help="Which published file.")] = "ibet",
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = "table",
) -> None:
    """The tables of a published file, by layer, with their row counts and descriptions."""
    from warehouse import access

    rows = _open(access.tables, home(), audience)
    emit(["table", "layer", "rows", "description"], rows, fmt, None, f"{audience}.duckdb")


def describe(
    table: Annotated[str, typer.Argument(help="A table of the file (see `ibet tables`).")],
    audience: Annotated[Audience, typer.Option("--audience", "-a", help="Which published file.")] = "ibet",
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = "table",
) -> None:
    """A table's columns: type, nullability, keys and what each column means."""
    from warehouse import access

    comment, cols = _open(access.describe, home(), audience, table)
    if fmt == "table" and not state.quiet:
        console.print(f"[bold]{table}[/bold]: {comment}", highlight=False)
    emit(["column", "type", "nullable", "key", "description"], cols, fmt, None, f"{audience}.{table}")
    if fmt == "table" and not state.quiet and any("(gate)" in c[3] for c in cols):
        console.print("(gate): a key the quality gate checks before publication (not DuckDB as rows go in); "
                      "every key of the file is listed in meta_keys", highlight=False)


def shell(
    audience: Annotated[Audience, typer.Option("--audience", "-a", help="Which published file.")] = "ibet",
) -> None:
    """Open a published file in the DuckDB shell (history, completion), read-only, file access disabled."""
    from warehouse.build import published_path

    settings = home()
    path = published_path(settings, audience)
    if not path.exists():
        fail(f"{path} is not published yet: run `ibet build` first", Exit.NOT_FOUND)
    cli = Path(sys.executable).with_name("duckdb")
    if not cli.exists():
        fail(f"the DuckDB shell is not installed in this environment ({cli}); run `make setup`", Exit.NOT_FOUND)
    if sys.stdin.isatty():
        say(f"{audience}.duckdb (read-only). `.tables` lists tables; "
            f"`SELECT table_name, comment FROM duckdb_tables();` describes them; .quit to leave")
    code = subprocess.call([str(cli), "-readonly", str(path), "-cmd",
                            "SET enable_external_access = false; SET lock_configuration = true;"])
    raise typer.Exit(code)


def docs(
    audience: Annotated[Optional[Audience], typer.Option("--audience", "-a", help="Only this audience's page.")]
    = None,
) -> None:
    """(Re)write the data dictionary site from the published files and print where it is."""
    from foundation.settings import AUDIENCES
    from warehouse.dictionary import write_dictionary

    settings = home().ensure()
    chosen = (audience,) if audience else tuple(AUDIENCES)
    try:
        index = write_dictionary(settings, chosen)
    except FileNotFoundError as exc:
        fail(str(exc), Exit.NOT_FOUND)
    say(f"data dictionary: {index}")

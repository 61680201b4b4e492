"""Commands that load partner files: ingest one file, ingest the inbox."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer
from rich.table import Table

from ibet.cli.common import JSON_ALIAS, Exit, StatusFormat, console, err, fail, home, key_or_exit, print_json, say, \
    state, status_format
from foundation.registry import AGENCIES

Agency = Literal[tuple(AGENCIES)]  # type: ignore[valid-type]


def _result_table(results: list) -> Table:
    t = Table(title="ingest")
    for c in ("agency", "file", "status", "read", "loaded", "quarantined", "reason"):
        t.add_column(c, justify="right" if c in ("read", "loaded", "quarantined") else "left",
                     overflow="fold", no_wrap=c == "file")
    for r in results:
        t.add_row(r.agency, r.file, "[green]loaded[/green]" if r.ok else "[red]rejected[/red]", f"{r.rows_read:,}",
                  f"{r.rows_loaded:,}", f"{r.rows_quarantined:,}", r.reason or "")
    return t


def ingest(
    agency: Annotated[Agency, typer.Argument(help="The agency whose extract this is.")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The extract to ingest.")],
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f", help="Output format.")] = "table",
    as_json: bool = JSON_ALIAS,
) -> None:
    """Validate, pseudonymize and load one extract (exit 4 when the file is rejected)."""
    from contracts.pandera_polars import pyarrow_without_pandas
    from ibet.ingest import ingest_file

    pyarrow_without_pandas()  # this process only ingests: pandas would be loaded for nothing

    settings = home().ensure()
    key = key_or_exit(settings)
    try:
        result = ingest_file(agency, file, settings=settings, key=key)
    except (KeyError, ValueError) as exc:
        fail(str(exc.args[0] if exc.args else exc), Exit.USAGE)
    if status_format(fmt, as_json) == "json":
        print_json(result.to_dict())
    elif not state.quiet:
        console.print(_result_table([result]))
    if not result.ok:
        err.print(f"rejected: {result.reason}", highlight=False)
        raise typer.Exit(int(Exit.REJECTED))


def _agencies(values: Optional[list[str]]) -> Optional[list[str]]:
    unknown = [v for v in values or [] if v not in AGENCIES]
    if unknown:
        raise typer.BadParameter(f"{', '.join(map(repr, unknown))} is not one of {', '.join(map(repr, AGENCIES))}")
    return values


def ingest_inbox(
    agency: Annotated[Optional[list[str]], typer.Option("--agency", help=f"Limit to these agencies "
                                                        f"[{'|'.join(AGENCIES)}].", callback=_agencies)] = None,
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f", help="Output format.")] = "table",
    as_json: bool = JSON_ALIAS,
) -> None:
    """Ingest every extract waiting in IBET_HOME/inbox, in date order, with progress (exit 4 if any is rejected)."""
    from rich.progress import Progress

    from ibet.ingest import ingest_file
    from foundation.registry import sources

    settings = home().ensure()
    key = key_or_exit(settings)
    todo = []
    for s in sources():
        if agency and s.agency not in agency:
            continue
        for f in sorted((settings.inbox / s.agency).glob(s.file_glob)):
            if s.match(f.name) is not None:
                todo.append((s.match(f.name), s.agency, f))
    todo.sort()
    results = []
    with Progress(console=err, transient=True, disable=state.quiet) as progress:
        task = progress.add_task("ingesting", total=len(todo))
        for _, ag, f in todo:
            progress.update(task, description=f"{ag}/{f.name}")
            results.append(ingest_file(ag, f, settings=settings, key=key))
            progress.advance(task)
    if status_format(fmt, as_json) == "json":
        print_json([r.to_dict() for r in results])
    else:
        if not state.quiet:
            console.print(_result_table(results))
        tot = [sum(getattr(r, a) for r in results) for a in ("rows_read", "rows_loaded", "rows_quarantined")]
        say(f"{len(results)} files: read {tot[0]:,}, loaded {tot[1]:,}, quarantined {tot[2]:,}, "
            f"rejected files {sum(not r.ok for r in results)}")
    if any(not r.ok for r in results):
        raise typer.Exit(int(Exit.REJECTED))

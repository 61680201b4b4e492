"""What every ``ibet`` command shares: consoles, exit codes, choices, the home, and output formats."""
from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, Literal, NoReturn, Optional

import typer

from ibet.cli.console import console, err, state
from foundation.settings import AUDIENCES, HomeError, Settings, SettingsError, get_settings

CONTEXT = {"help_option_names": ["-h", "--help"]}


class Exit(enum.IntEnum):
    """Exit codes: scripts and schedulers tell a usage error from a rejected file from a failed gate."""

    OK = 0
    FAILED = 1  #: the work ran and failed: quality gate blocked, query error, DAG run failed
    USAGE = 2  #: bad command line (click's own code)
    NO_KEY = 3  #: no pseudonymization key configured
    REJECTED = 4  #: a partner file was rejected whole
    NOT_FOUND = 5  #: no home, no lake, nothing published yet
    CONFIG = 6  #: an IBET_* setting has an unusable value


EXIT_HELP = ("Exit codes: 0 ok, 1 failed (gate, query, run), 2 usage error, 3 no key, 4 file rejected, "
             "5 no home/lake/published file, 6 bad setting.")


def fail(message: str, code: Exit = Exit.FAILED) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(int(code))


def say(message: str) -> None:
    """Informational line on stdout, silenced by ``-q``."""
    if not state.quiet:
        console.print(message, highlight=False)


def home(*, lake: bool = False) -> Settings:
    """The current home, checked: it exists, its settings parse, and (``lake``) it holds a lake."""
    settings = get_settings()
    try:
        settings.check()
        settings.options  # noqa: B018 - parse now: a bad IBET_* value is a clear error, not a traceback later
    except HomeError as exc:
        fail(str(exc), Exit.NOT_FOUND)
    except SettingsError as exc:
        fail(str(exc), Exit.CONFIG)
    if lake and not settings.lake_store.has_partitions():
        fail(f"no lake in {settings.home}: ingest extracts first (`ibet ingest-inbox`), or point IBET_HOME at the "
             "home that holds them", Exit.NOT_FOUND)
    return settings


def key_or_exit(settings: Settings) -> bytes:
    from foundation.keys import MissingKeyError, load_key

    try:
        return load_key(settings)
    except MissingKeyError as exc:
        fail(str(exc), Exit.NO_KEY)


def check_region(region: str) -> str:
    """``--region``: ALL or a code of the home's region reference (read when the command runs, so an
    edited ``IBET_HOME/reference/regions.csv`` counts and nothing reads the environment at import)."""
    from foundation.reference import region_codes

    codes = region_codes()
    if region != "ALL" and region not in codes:
        fail(f"unknown region {region!r}: use ALL or one of {', '.join(codes)}", Exit.USAGE)
    return region


# Choices shown in --help and in the error message of a wrong value.
Audience = Literal[tuple(AUDIENCES)]  # type: ignore[valid-type]
TableFormat = Literal["table", "csv", "json", "md", "xlsx"]
StatusFormat = Literal["table", "json"]

JSON_ALIAS = typer.Option(False, "--json", hidden=True, help="Same as --format json.")


def status_format(fmt: str, as_json: bool) -> str:
    return "json" if as_json else fmt


def emit(columns: list[str], rows: list, fmt: str, output: Optional[Path], title: str, *,
         total: int | None = None, hint: str = "") -> None:
    """Print or write a result in the chosen format (CSV/XLSX made safe for spreadsheets).

    ``total`` is the full row count when ``rows`` is a shown prefix: the table says so.
    """
    from foundation import exports

    if fmt == "xlsx":
        if output is None:
            fail("--format xlsx needs --output FILE.xlsx", Exit.USAGE)
        from foundation.workbook import write_xlsx

        write_xlsx(output, columns, rows, sheet=title)
        say(f"{len(rows):,} rows written to {output}")
        return
    if fmt == "table":
        from ibet.cli.tables import render_table

        if output is not None:
            err.print("[yellow]--output is ignored with --format table[/yellow]")
        render_table(columns, rows, title, total=total, hint=hint)
        return
    text = {"csv": exports.to_csv, "json": exports.to_json, "md": exports.to_markdown}[fmt](columns, rows)
    if output is not None:
        output.write_text(text)
        say(f"{len(rows):,} rows written to {output}")
    else:
        typer.echo(text, nl=False)


def print_json(obj: Any) -> None:
    import json

    typer.echo(json.dumps(obj, sort_keys=True, default=str))

"""What every ``ibet`` command shares: consoles, exit codes, choices, the home, and output formats."""
from __future__ import annotations

import csv
import enum
import os
import sys
from pathlib import Path
from typing import Any, Literal, NoReturn, Optional

import typer
from rich.console import Console

from ibet.settings import AUDIENCES, HomeError, Settings, SettingsError, get_settings

console = Console(width=None if sys.stdout.isatty() else 160)  # wide tables in logs and pipes
err = Console(stderr=True, soft_wrap=True)
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


class State:
    quiet: bool = False
    verbose: int = 0


state = State()


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
    if lake and not any(settings.lake.glob("*/agency=*")):
        fail(f"no lake in {settings.home}: ingest extracts first (`ibet ingest-inbox`), or point IBET_HOME at the "
             "home that holds them", Exit.NOT_FOUND)
    return settings


def key_or_exit(settings: Settings) -> bytes:
    from ibet.keys import MissingKeyError, load_key

    try:
        return load_key(settings)
    except MissingKeyError as exc:
        fail(str(exc), Exit.NO_KEY)


def _region_codes() -> tuple[str, ...]:
    """Region codes for ``--region`` choices: the home's reference override, else the shipped list (cheap)."""
    from importlib import resources

    raw = os.environ.get("IBET_HOME")
    override = Path(raw) / "reference" / "regions.csv" if raw else None
    path = override if override is not None and override.is_file() else Path(
        str(resources.files("ibet") / "data" / "regions.csv"))
    with open(path, newline="") as fh:
        return tuple(r["region_code"] for r in csv.DictReader(fh))


# Choices shown in --help and in the error message of a wrong value.
Audience = Literal[tuple(AUDIENCES)]  # type: ignore[valid-type]
Region = Literal[("ALL", *_region_codes())]  # type: ignore[valid-type]
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
    from ibet import exports

    if fmt == "xlsx":
        if output is None:
            fail("--format xlsx needs --output FILE.xlsx", Exit.USAGE)
        from ibet.workbook import write_xlsx

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

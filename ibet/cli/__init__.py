"""``ibet``: the command line of the warehouse (typer + rich).

Commands are grouped by who uses them: a home (init, config, keygen, generate, contracts),
loading (ingest, ingest-inbox), the warehouse (build, check, sql, tables, describe, shell,
docs), evaluators (indicators, report), accountability (publish --rollback, doctor, audit,
purge), and Airflow (airflow demo|ui|env).
"""
from __future__ import annotations

import os
from importlib import metadata
from typing import Annotated, Literal, Optional

import typer

from ibet.cli import admin_cmds, airflow_cmds, home_cmds, ingest_cmds, report_cmds, warehouse_cmds
from ibet.cli.common import CONTEXT, EXIT_HELP, err, state

# No pretty tracebacks: they print local variables, and a local variable can hold a record's value.
app = typer.Typer(help="IBET shared intelligence warehouse.", no_args_is_help=True, add_completion=True,
                  context_settings=CONTEXT, epilog=EXIT_HELP, pretty_exceptions_enable=False)


def _version(value: bool) -> None:
    if value:
        try:
            version = metadata.version("ibet-warehouse")
        except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
            version = "dev"
        typer.echo(f"ibet-warehouse {version} (duckdb {metadata.version('duckdb')}, "
                   f"apache-airflow {metadata.version('apache-airflow')})")
        raise typer.Exit()


@app.callback()
def options(
    version: Annotated[Optional[bool], typer.Option("--version", "-V", callback=_version, is_eager=True,
                                                    help="Show the version and exit.")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="Also print log messages "
                                         "on stderr (-vv: debug).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only results and errors.")] = False,
    log_format: Annotated[Optional[Literal["text", "json"]], typer.Option(
        "--log-format", help="Format of IBET_HOME/logs/ibet.log (default: IBET_LOG_FORMAT, else text).")] = None,
) -> None:
    """IBET shared intelligence warehouse: partner extracts -> contracts -> lake -> audited DuckDB marts."""
    state.quiet, state.verbose = quiet, verbose
    if log_format:
        os.environ["IBET_LOG_FORMAT"] = log_format
    if verbose:
        import logging

        from rich.logging import RichHandler

        handler = RichHandler(console=err, show_path=False, rich_tracebacks=False)
        logger = logging.getLogger("ibet")
        logger.addHandler(handler)
        handler.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)


for command in (home_cmds.init, home_cmds.config, home_cmds.keygen, home_cmds.generate, ingest_cmds.ingest):
    app.command()(command)
app.command("ingest-inbox")(ingest_cmds.ingest_inbox)
app.command()(home_cmds.contracts)
for command in (warehouse_cmds.build, warehouse_cmds.check, warehouse_cmds.sql, warehouse_cmds.tables,
                warehouse_cmds.describe, warehouse_cmds.shell, warehouse_cmds.docs, report_cmds.indicators):
    app.command()(command)
for command in (admin_cmds.publish, admin_cmds.doctor, admin_cmds.audit, admin_cmds.purge):
    app.command()(command)
app.add_typer(report_cmds.report_app, name="report")
app.add_typer(airflow_cmds.airflow_app, name="airflow")

def main() -> None:
    """The ``ibet`` command: an unexpected error is one line naming its class, never a traceback or a
    message (either may quote a value); the code lines of the traceback go to the log."""
    import logging
    import sys
    import traceback

    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as exc:  # noqa: BLE001
        where = "".join(traceback.format_tb(exc.__traceback__))
        logger = logging.getLogger("ibet")
        try:
            from foundation.logs import get_logger
            from foundation.settings import get_settings

            settings = get_settings()
            if settings.exists():
                logger = get_logger(settings)
        except Exception:  # noqa: BLE001 - the error itself matters more than where it is logged
            pass
        logger.error("internal error %s at\n%s", type(exc).__name__, where)
        err.print(f"[red]internal error ({type(exc).__name__}):[/red] no details are shown, as they could quote "
                  "a record; the code location is in IBET_HOME/logs/ibet.log", highlight=False)
        sys.exit(1)


__all__ = ["app", "main"]

"""Evaluators' commands: indicators and rendered reports."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ibet.cli.common import CONTEXT, Audience, Exit, Region, TableFormat, emit, fail, home, say

report_app = typer.Typer(help="Rendered reports for evaluators.", no_args_is_help=True, context_settings=CONTEXT)


def _run(call, *args, **kwargs):  # noqa: ANN001, ANN202 - maps errors to exit codes
    try:
        return call(*args, **kwargs)
    except (ValueError, KeyError) as exc:
        fail(str(exc.args[0] if exc.args else exc), Exit.USAGE)
    except (LookupError, FileNotFoundError) as exc:
        fail(str(exc.args[0] if exc.args else exc), Exit.NOT_FOUND)


def indicators(
    fiscal_year: Annotated[str, typer.Option("--fiscal-year", "-y", help="2006-07 (Canada, April-March) or FY2007 "
                                                                         "(US, October-September).")],
    region: Annotated[Region, typer.Option("--region", "-r", help="A region code, or ALL.")] = "ALL",
    audience: Annotated[Audience, typer.Option("--audience", "-a", help="Which published file.")] = "evaluator",
    only: Annotated[Optional[list[str]], typer.Option("--indicator", "-i", help="Show only these indicators.")]
    = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = "table",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """Program performance indicators for one fiscal year, per partner (suppressed below 5)."""
    from warehouse.indicators import indicator_table

    columns, rows = _run(indicator_table, home(), fiscal_year, audience=audience, region=region)
    if only:
        unknown = set(only) - {r[0] for r in rows}
        if unknown:
            fail(f"no such indicator for this year: {', '.join(sorted(unknown))}; "
                 f"known: {', '.join(dict.fromkeys(r[0] for r in rows))}", Exit.USAGE)
        rows = [r for r in rows if r[0] in only]
    emit(columns, rows, fmt, output, f"indicators {fiscal_year} (region {region})")


@report_app.command("dpr")
def report_dpr(
    fiscal_year: Annotated[str, typer.Option("--fiscal-year", "-y", help="Canadian fiscal year, e.g. 2006-07.")],
    fmt: Annotated[Literal["md", "html"], typer.Option("--format", "-f", help="Output format.")] = "md",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to a file (default: print).")]
    = None,
    audience: Annotated[Audience, typer.Option("--audience", "-a", help="Which published file.")] = "evaluator",
) -> None:
    """The horizontal-initiative table in the shape of the RCMP's FY2006-07 report."""
    from warehouse.reports import render_dpr

    text = _run(render_dpr, home(), fiscal_year, fmt=fmt, audience=audience)
    if output is not None:
        output.write_text(text)
        say(f"report written to {output}")
    else:
        typer.echo(text, nl=False)

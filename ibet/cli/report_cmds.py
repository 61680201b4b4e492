"""Evaluators' commands: indicators and rendered reports."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ibet.cli.common import CONTEXT, Audience, Exit, TableFormat, check_region, emit, fail, home, say

report_app = typer.Typer(help="Rendered reports for evaluators.", no_args_is_help=True, context_settings=CONTEXT)


def _run(call, *args, **kwargs):  # noqa: ANN001, ANN202 - maps errors to exit codes
    try:
        return call(*args, **kwargs)
    except (ValueError, KeyError) as exc:
        fail(str(exc.args[0] if exc.args else exc), Exit.USAGE)
    except (LookupError, FileNotFoundError) as exc:
        fail(str(exc.args[0] if exc.args else exc), Exit.NOT_FOUND)


def indicators(
    fiscal_year: Annotated[Optional[str], typer.Option("--fiscal-year", "-y", help="2006-07 (Canada, April-March) or "
                                                                                  "FY2007 (US, October-September).")]
    = None,
    first: Annotated[Optional[str], typer.Option("--from", help="First fiscal year of a series (with --to).")] = None,
    last: Annotated[Optional[str], typer.Option("--to", help="Last fiscal year of a series (with --from).")] = None,
    grain: Annotated[Literal["year", "quarter"], typer.Option("--grain", "-g", help="One row per fiscal year, or per "
                                                                                   "fiscal quarter.")] = "year",
    region: Annotated[str, typer.Option("--region", "-r", help="A region code of the home's reference "
                                                               "(PAC, OKA, ...), or ALL.")] = "ALL",
    audience: Annotated[Audience, typer.Option("--audience", "-a", help="Which published file.")] = "evaluator",
    only: Annotated[Optional[list[str]], typer.Option("--indicator", "-i", help="Show only these indicators.")]
    = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = "table",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """Program performance indicators per partner, with the days they cover and their notes.

    One fiscal year (-y), or a series (--from 2024-25 --to 2026-27), by year or by quarter (-g quarter).
    Values the evaluator file withholds say "withheld"."""
    from warehouse.indicators import LEGEND, indicator_table, write_indicator_workbook

    if fiscal_year and (first or last):
        fail("give either --fiscal-year, or --from and --to", Exit.USAGE)
    if not fiscal_year and not (first and last):
        fail("give --fiscal-year FY, or --from FY --to FY (e.g. -y 2026-27, or --from 2024-25 --to 2026-27)",
             Exit.USAGE)
    settings = home()
    check_region(region)
    columns, rows = _run(indicator_table, settings, fiscal_year, audience=audience, region=region, first=first,
                         last=last, grain=grain, only=only)
    from warehouse.access import audited_query

    audited_query(settings, "indicators", audience, rows=len(rows), fiscal_year=fiscal_year, first=first, last=last,
                  grain=grain, region=region, indicators=only, format=fmt, output=str(output) if output else None)
    span = fiscal_year or f"{first}..{last}"
    title = f"indicators {span} by {grain} (region {region}, {audience} file)"
    if fmt == "xlsx":
        if output is None:
            fail("--format xlsx needs --output FILE.xlsx", Exit.USAGE)
        write_indicator_workbook(settings, output, columns, rows, audience=audience, title=title)
        say(f"{len(rows):,} rows written to {output} (sheets: Indicators, Definitions, About)")
        return
    emit(columns, rows, fmt, output, title)
    if fmt == "table":
        say(f"[dim]{LEGEND}[/dim]")


@report_app.command("dpr")
def report_dpr(
    fiscal_year: Annotated[str, typer.Option("--fiscal-year", "-y", help="Canadian fiscal year, e.g. 2006-07.")],
    fmt: Annotated[Literal["md", "html", "xlsx"], typer.Option("--format", "-f", help="Output format.")] = "md",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to a file (default: print; xlsx "
                                                                          "needs one).")] = None,
    audience: Annotated[Audience, typer.Option("--audience", "-a", help="Which published file.")] = "evaluator",
) -> None:
    """The horizontal-initiative table, row by row as in the RCMP's Departmental Performance Report."""
    from warehouse.dpr_render import render_dpr

    if fmt == "xlsx" and output is None:
        fail("--format xlsx needs --output FILE.xlsx", Exit.USAGE)
    from warehouse.access import audited_query

    settings = home()
    text = _run(render_dpr, settings, fiscal_year, fmt=fmt, audience=audience, output=output)
    audited_query(settings, "report dpr", audience, fiscal_year=fiscal_year, format=fmt,
                  output=str(output) if output else None)
    if fmt == "xlsx":
        say(f"report written to {output}")
    elif output is not None:
        from foundation.lake import write_text

        write_text(output, text)  # reports hold program figures: owner/group-only, atomic
        say(f"report written to {output}")
    else:
        typer.echo(text, nl=False)


@report_app.command("review")
def report_review(
    fiscal_year: Annotated[str, typer.Option("--fiscal-year", "-y", help="Canadian fiscal year, e.g. 2026-27.")],
    years: Annotated[int, typer.Option("--years", help="Fiscal years in the trend, ending with this one.", min=1,
                                       max=20)] = 5,
    fmt: Annotated[Literal["html", "xlsx"], typer.Option("--format", "-f", help="Output format.")] = "html",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Where to write (default: "
                                                                          "IBET_HOME/reports/review_FY.FORMAT).")]
    = None,
    audience: Annotated[Audience, typer.Option("--audience", "-a", help="Which published file.")] = "evaluator",
) -> None:
    """The program-review report: DPR table, headline indicators with trends and quarterly charts, definitions."""
    from warehouse.review import write_review

    settings = home()
    target = output or settings.home / "reports" / f"review_{fiscal_year}.{fmt}"
    path = _run(write_review, settings, fiscal_year, target, fmt=fmt, audience=audience, years=years)
    from warehouse.access import audited_query

    audited_query(settings, "report review", audience, fiscal_year=fiscal_year, years=years, format=fmt,
                  output=str(path))
    say(f"review report written to {path}")

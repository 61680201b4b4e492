"""The DPR table rendered as Markdown, a standalone HTML page, or an xlsx workbook."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from foundation.settings import Settings
from warehouse.dpr import COMPUTED, Dpr, amount, build_dpr, years_words

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORMATS = ("md", "html", "xlsx")


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html"]),
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["mdcell"] = lambda v: str(v).replace("|", "\\|").replace("\n", "<br>")
    return env


def context(dpr: Dpr) -> dict[str, Any]:
    """What the templates show: the rows, and the non-federal partners' amounts in their own currency."""
    def text(v: float | None, currency: str) -> str:
        return "not reported" if v is None else amount(v, currency, full=True)

    non_federal = [{**p, "planned_text": text(p["planned"], p["currency"]), "actual_text": text(p["actual"],
                                                                                               p["currency"]),
                    "variance_text": text(p["variance"], p["currency"])} for p in dpr.non_federal]
    return {"name": dpr.rows[0].value, "year": years_words(dpr.fiscal_year), "fiscal_year": dpr.fiscal_year,
            "rows": dpr.rows, "non_federal": non_federal, "audience": dpr.audience, "built_at": dpr.built_at,
            "suppression": dpr.suppression, "computed": COMPUTED}


def render_dpr(settings: Settings, fiscal_year: str, fmt: str = "md", audience: str = "evaluator",
               output: Path | None = None) -> str:
    """The report as text (``md``, ``html``), or written to ``output`` (``xlsx``, which needs one)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    dpr = build_dpr(settings, fiscal_year, audience)
    if fmt == "xlsx":
        if output is None:
            raise ValueError("--format xlsx needs --output FILE.xlsx")
        from foundation.workbook import Workbook

        book = Workbook()
        add_dpr_sheets(book, dpr)
        book.save(output)
        return ""
    return environment().get_template(f"dpr.{fmt}.j2").render(**context(dpr))


def add_dpr_sheets(book: Any, dpr: Dpr) -> None:
    """The table as a two-column sheet, and the non-federal partners' spending as numbers."""
    year = years_words(dpr.fiscal_year)
    book.sheet("DPR table", ["Row", "Value", "Source"], [[r.label, r.value, r.source] for r in dpr.rows],
               widths=[38, 120, 18], wrap=True)
    book.sheet("Non-federal spending", ["Partner", "Name", "Currency", f"Planned {year}", f"Actual {year}",
                                        "Variance", "Note"],
               [[p["partner"], p["name"], p["currency"], p["planned"], p["actual"], p["variance"], p["note"]]
                for p in dpr.non_federal], widths=[10, 50, 10, 16, 16, 16, 40], money_columns=(3, 4, 5))

"""Evaluators' outputs: the DPR table as published, indicators with coverage, the review report and workbook."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from ibet.cli import app
from tests.conftest import render

SEED = Path(__file__).parent / "data" / "seed_000_dpr_2006-07.txt"
SHARED_SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_92604181da04fc65.txt"


def _cli(settings, *args: str):
    return CliRunner().invoke(app, list(args), env={"IBET_HOME": str(settings.home)}, catch_exceptions=False)


def _norm(text: str) -> str:
    return " ".join(text.replace("<br>", " ").replace("\\|", "|").split())


def seed_rows() -> list[tuple[str, str]]:
    """The published table as (label, value) pairs: cells end with ' |', labels and values alternate."""
    cells = [_norm(c) for c in SEED.read_text().split("|")]
    cells = [c for c in cells if c]
    assert len(cells) % 2 == 0
    return list(zip(cells[::2], cells[1::2]))


def md_rows(markdown: str) -> list[tuple[str, str]]:
    """The first table of the report as (label, value) pairs."""
    rows = []
    for line in markdown.split("\n## ")[0].splitlines():
        m = re.fullmatch(r"\| (.+?) \| (.*) \|", line)
        if m and m.group(1) not in ("", "---") and not line.startswith("|---"):
            rows.append((_norm(m.group(1)), _norm(m.group(2))))
    return rows


def test_the_seed_copy_is_the_shared_seed():
    if not SHARED_SEED.exists():
        pytest.skip(f"{SHARED_SEED} is not beside the project")
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_dpr_2006_07_matches_the_published_table_row_by_row(published):
    r = _cli(published["settings"], "report", "dpr", "--fiscal-year", "2006-07")
    assert r.exit_code == 0, r.stderr
    ours, seed = md_rows(r.stdout), seed_rows()
    assert [label for label, _ in ours] == [label for label, _ in seed]  # every row, in order, in its wording
    assert len(seed) == 17
    for (label, value), (_, expected) in zip(ours, seed):
        if value != expected:  # only a computed part may follow the published text, and it says so
            assert value.startswith(expected + " Computed by the warehouse"), label
    table = dict(ours)
    assert table["Planned Spending for 2006-2007"] == "$25 M"
    assert table["Actual Spending in 2006-2007"].startswith("$23,868,339 * please note that, as in past years, "
                                                            "$4,367,122 was allocated to INSET")
    # the US partners apart, in their own currency, never in the federal headline
    us = r.stdout.split("## Non-federal partners")[1]
    assert "$10,150,000 USD" in us and "USD" not in r.stdout.split("## Non-federal partners")[0]
    assert "$53,083,000" not in r.stdout and "$51,731,139" not in r.stdout


def test_dpr_for_a_year_without_data_says_so_row_by_row(published, tmp_path):
    s = published["settings"]
    r = _cli(s, "report", "dpr", "-y", "2019-20")
    assert r.exit_code == 0, r.stderr
    table = dict(md_rows(r.stdout))
    assert table["Planned Spending for 2019-2020"].startswith("No finance figures received for 2019-2020")
    assert table["Planned Results for 2019-2020: RCMP"] == "No planned results in the program reference for 2019-2020."
    assert table["Results Achieved in 2019-2020: CBSA"].startswith("No results published and no records")
    assert "No finance figures received from non-federal partners" in r.stdout
    # the current year: computed results, labelled, with their coverage
    r = _cli(s, "report", "dpr", "-y", "2026-27")
    rcmp = dict(md_rows(r.stdout))["Results Achieved in 2026-2027: RCMP"]
    assert rcmp.startswith("Computed by the warehouse (") and "of the fiscal year" in rcmp and "interdictions:" in rcmp
    # html and xlsx
    html = tmp_path / "dpr.html"
    assert _cli(s, "report", "dpr", "-y", "2006-07", "-f", "html", "-o", str(html)).exit_code == 0
    page = html.read_text()
    assert page.startswith("<!doctype html>") and "$23,868,339" in page and "1. RCMP<br>2. CBSA" in page
    assert html.stat().st_mode & 0o007 == 0  # need-to-know
    xlsx = tmp_path / "dpr.xlsx"
    assert _cli(s, "report", "dpr", "-y", "2006-07", "-f", "xlsx", "-o", str(xlsx)).exit_code == 0
    book = load_workbook(xlsx)
    assert book.sheetnames == ["DPR table", "Non-federal spending"]
    rows = list(book["DPR table"].iter_rows(min_row=2, values_only=True))
    assert [_norm(r[0]) for r in rows] == [label for label, _ in seed_rows()]
    spend = list(book["Non-federal spending"].iter_rows(min_row=2, values_only=True))
    assert ("CBP", 9800000, 10150000) == (spend[0][0], spend[0][3], spend[0][4]) and isinstance(spend[0][3], int)
    assert _cli(s, "report", "dpr", "-y", "2006-07", "-f", "xlsx").exit_code == 2  # xlsx needs --output
    wrong = _cli(s, "report", "dpr", "-y", "FY2007")  # the DPR is reported by Canadian fiscal year
    assert wrong.exit_code == 2 and "Canadian fiscal year" in wrong.stderr


def test_indicators_carry_coverage_and_notes_in_every_format(published, tmp_path):
    s = published["settings"]
    r = _cli(s, "indicators", "-y", "FY2027", "-f", "json")
    assert r.exit_code == 0, r.stderr
    rows = {(x["indicator"], x["detail"]): x for x in json.loads(r.stdout)}
    planned = rows[("planned_spending_cad", "")]
    # FY2027 holds 2026-10-01..2027-03-31 of the Canadian year 2026-27: 182 of its 365 days
    assert "prorated" in planned["note"] and planned["coverage"] == pytest.approx(182 / 365, abs=0.001)
    events = rows[("events_reported", "")]
    assert events["first_day"] <= events["last_day"] and 0 < events["coverage"] < 0.05
    assert events["agencies_reporting"] == 5 and isinstance(events["ALL"], int)  # a count is an integer
    csv_text = _cli(s, "indicators", "-y", "2026-27", "-f", "csv", "-i", "events_reported").stdout
    header, line = csv_text.splitlines()[:2]
    assert "first_day" in header and "note" in header and ".0," not in line
    md = _cli(s, "indicators", "-y", "2026-27", "-f", "md", "-i", "cost_per_interdiction_cad").stdout
    assert "prorated to the" in md and "coverage" in md
    table = _cli(s, "indicators", "-y", "2026-27", "-i", "interdictions")
    assert "first_day" in table.stdout and "agencies_reporting" in table.stdout and "withheld:" in table.stdout
    out = tmp_path / "ind.xlsx"
    assert _cli(s, "indicators", "-y", "2026-27", "-f", "xlsx", "-o", str(out)).exit_code == 0
    book = load_workbook(out)
    assert book.sheetnames == ["Indicators", "Definitions", "About"]
    about = dict(book["About"].iter_rows(min_row=2, values_only=True))
    assert "hypercube" in about["suppression method"] and about["built at (UTC)"] is not None
    ws = book["Indicators"]
    header = [c.value for c in ws[1]]
    first = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "events_reported")
    assert isinstance(first[header.index("ALL")], int)
    assert hasattr(first[header.index("first_day")], "year")  # a date, not text


def test_indicator_series_and_quarters(published):
    s = published["settings"]
    r = _cli(s, "indicators", "--from", "2025-26", "--to", "2026-27", "-f", "json", "-i", "events_reported")
    assert r.exit_code == 0, r.stderr
    assert {x["fiscal_year"] for x in json.loads(r.stdout)} == {"2026-27"}  # no data in 2025-26: no invented row
    q = json.loads(_cli(s, "indicators", "-y", "2026-27", "-g", "quarter", "-f", "json", "-i",
                        "events_reported").stdout)
    year = json.loads(_cli(s, "indicators", "-y", "2026-27", "-f", "json", "-i", "events_reported").stdout)
    assert {x["period"] for x in q} <= {"Q1", "Q2", "Q3", "Q4"}
    assert sum(x["ALL"] for x in q) == year[0]["ALL"]  # quarters add up to the year
    us = json.loads(_cli(s, "indicators", "-y", "FY2027", "-g", "quarter", "-f", "json", "-i",
                         "events_reported").stdout)
    assert [x["ALL"] for x in us] == [x["ALL"] for x in q]  # the same calendar quarter in both fiscal calendars
    assert {x["period"] for x in us} != {x["period"] for x in q}  # ...numbered in each calendar
    bad = _cli(s, "indicators", "--from", "2025-26", "--to", "FY2027")
    assert bad.exit_code == 2 and "different fiscal calendars" in bad.stderr
    both = _cli(s, "indicators", "-y", "2026-27", "--from", "2025-26", "--to", "2026-27")
    assert both.exit_code == 2


def test_review_report_html_with_charts_renders_offline(published, chromium, tmp_path):
    s = published["settings"]
    r = _cli(s, "report", "review", "-y", "2026-27")
    assert r.exit_code == 0, r.stderr
    page = s.home / "reports" / "review_2026-27.html"
    assert str(page) in " ".join(r.stdout.split())
    html = page.read_text()
    assert html.count("<svg") >= 6 and "Planned vs actual spending" in html
    assert not re.search(r'<(?:script|link|img)\b[^>]*(?:src|href)="https?://', html)  # nothing from the network
    for part in ("1. The horizontal-initiative table", "Headline indicators", "Trend", "Quarters of 2026-27",
                 "Definitions", "Coverage and suppression", "hypercube", "Name of Program"):
        assert part in html, part
    assert page.stat().st_mode & 0o007 == 0 and page.parent.stat().st_mode & 0o007 == 0  # need-to-know
    shot, dom = render(chromium, page, tmp_path, "review_report", dump_dom=True, size="1400,3000")
    print(f"\nreview report: screenshot {shot.stat().st_size:,} bytes")
    assert shot.stat().st_size > 50_000 and "Interdictions by partner" in dom


def test_review_workbook_has_parts_charts_and_definitions(published, tmp_path):
    s = published["settings"]
    out = tmp_path / "review.xlsx"
    r = _cli(s, "report", "review", "-y", "2026-27", "-f", "xlsx", "-o", str(out))
    assert r.exit_code == 0, r.stderr
    book = load_workbook(out)
    assert book.sheetnames == ["DPR table", "Non-federal spending", "Headline", "Trend", "Quarterly", "Outreach",
                               "Definitions", "About"]
    assert len(book["Trend"]._charts) == 2 and len(book["Quarterly"]._charts) == 1
    definitions = {r[0]: r[2] for r in book["Definitions"].iter_rows(min_row=2, values_only=True)}
    assert "gotaways" in definitions["interception_rate"].lower() or "interdicted" in definitions["interception_rate"]
    trend = list(book["Trend"].iter_rows(min_row=2, values_only=True))
    assert trend and all(isinstance(v, (int, float)) or v is None for v in trend[0][1:])

"""Complementary suppression on synthetic cubes, without a warehouse (seconds, so mutation testing can
run them for every mutant): both calendars' quarters and years, agencies x regions x details, shares
linked to their counts. The attacker of ``tests/disclosure.py`` (written independently of the module)
must find nothing; what is published must be exactly what came in; the cheapest complement is chosen."""
from __future__ import annotations

import datetime as dt
import random

import duckdb
import polars as pl
import pytest

from tests import disclosure
from warehouse import suppression

THRESHOLD = 5  # DOMAIN.md: counts below 5 are withheld (written here, not read from the settings under test)
CAN_QUARTERS = [dt.date(2026, 4, 1), dt.date(2026, 7, 1), dt.date(2026, 10, 1), dt.date(2027, 1, 1)]
US_QUARTERS = [dt.date(2026, 10, 1), dt.date(2027, 1, 1), dt.date(2027, 4, 1), dt.date(2027, 7, 1)]
YEARS = {("CAN", "2026-27"): (dt.date(2026, 4, 1), dt.date(2027, 3, 31), CAN_QUARTERS),
         ("USA", "FY2027"): (dt.date(2026, 10, 1), dt.date(2027, 9, 30), US_QUARTERS)}


def _quarter_end(start: dt.date) -> dt.date:
    month = start.month + 3
    nxt = dt.date(start.year + (month > 12), (month - 1) % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def synthetic_mart(seed: int, agencies=("cbp", "ice", "rcmp"), regions=("PAC", "GLA", "ATL"),
                   only: dict[str, tuple[str, ...]] | None = None, details=("DRUGS", "TOBACCO")) -> pl.DataFrame:
    """A mart in the published shape after primary suppression, with every total consistent. ``only``: the
    agencies that report in a region (a region line of one member: its total is that member)."""
    rng = random.Random(seed)
    only = only or {}
    base: dict[tuple, tuple[int, int]] = {}  # (indicator, detail, quarter, agency, region) -> (value, basis)
    for q in sorted(set(CAN_QUARTERS) | set(US_QUARTERS)):
        for ag in agencies:
            for reg in regions:
                if reg in only and ag not in only[reg]:
                    continue
                base[("events_reported", "", q, ag, reg)] = (rng.choice([0, 1, 2, 3, 4, 6, 9, 15, 40]), 0)
                for det in details:
                    base[("seizures", det, q, ag, reg)] = (rng.choice([0, 2, 3, 7, 12, 30]), 0)
                tries = rng.choice([3, 8, 20, 50])
                base[("gotaways", "", q, ag, reg)] = (rng.randint(0, tries), 0)
                base[("interception_rate", "", q, ag, reg)] = (tries - base[("gotaways", "", q, ag, reg)][0], tries)

    def total(ind, det, quarters, ag, reg) -> tuple[int, int]:
        keys = [(i, d, q, a, r) for (i, d, q, a, r) in base if i == ind and q in quarters
                and (det == "ALL" and d != "" or d == det) and (ag == "ALL" or a == ag) and (reg == "ALL" or r == reg)]
        return sum(base[k][0] for k in keys), sum(base[k][1] for k in keys)

    rows = []
    for (cal, fy), (start, end, quarters) in YEARS.items():
        periods = [("year", start, end, quarters)] + [(f"Q{n}", q, _quarter_end(q), [q]) for n, q in
                                                      enumerate(quarters, 1)]
        for period, p_start, p_end, qs in periods:
            # a median is not a sum of its members: never a cube line (listed first, so a cube built wrongly
            # from it would lose the lines of everything after)
            for ag in (*agencies, "ALL"):
                for reg in (*regions, "ALL"):
                    rows.append({"calendar": cal, "fiscal_year": fy, "period": period, "agency_code": ag,
                                 "region_code": reg, "indicator": "median_sharing_latency_hours", "detail": "",
                                 "value": 20.0 + rng.random(), "unit": "hours", "basis_count": 50, "suppressed": False,
                                 "period_start": p_start, "period_end": p_end, "_true": None, "_basis": 50})
            for ind, dets in (("events_reported", [""]), ("seizures", [*details, "ALL"]),
                                 ("gotaways", [""]), ("interception_rate", [""])):
                for det in dets:
                    for ag in (*agencies, "ALL"):
                        for reg in (*regions, "ALL"):
                            if reg in only and ag not in (*only[reg], "ALL"):
                                continue
                            value, basis = total(ind, det, qs, ag, reg)
                            share = ind == "interception_rate"
                            v = value / basis if share and basis else (None if share else float(value))
                            b = basis if share else value
                            small = (b < THRESHOLD) or (not share and value < THRESHOLD) or (
                                share and (value < THRESHOLD or basis - value < THRESHOLD))
                            rows.append({"calendar": cal, "fiscal_year": fy, "period": period, "agency_code": ag,
                                         "region_code": reg, "indicator": ind, "detail": det,
                                         "value": None if small else v, "unit": "share" if share else "count",
                                         "basis_count": None if small else b, "suppressed": small,
                                         "period_start": p_start, "period_end": p_end, "_true": v, "_basis": b})
    return pl.DataFrame(rows, schema_overrides={"value": pl.Float64, "basis_count": pl.Int64, "_true": pl.Float64,
                                                "_basis": pl.Int64})


def _two_way(inner: dict[tuple[str, str], int], withheld: set[tuple[str, str]]) -> pl.DataFrame:
    """An agency x region table of ``inner`` cells with its row, column and grand totals, ``withheld`` marked."""
    cells = dict(inner)
    for a in dict.fromkeys(a for a, _ in inner):  # in the order given: the table is the same every run
        cells[(a, "ALL")] = sum(v for (x, _), v in inner.items() if x == a)
    for r in dict.fromkeys(r for _, r in inner):
        cells[("ALL", r)] = sum(v for (_, y), v in inner.items() if y == r)
    cells[("ALL", "ALL")] = sum(inner.values())
    return disclosure.one_year_mart([("events_reported", a, r, v, (a, r) in withheld) for (a, r), v in cells.items()])


def _attacks(mart: pl.DataFrame) -> list:
    table = disclosure.cells(mart)
    rel = disclosure.margins(mart, table)
    return (disclosure.by_subtraction(table, rel) + disclosure.by_linear_equations(table, rel)
            + disclosure.by_rate_times_basis(mart, THRESHOLD))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_withheld_cell_of_a_synthetic_cube_can_be_worked_out(seed):
    primary = synthetic_mart(seed)
    assert primary["suppressed"].sum() > 10 and _attacks(primary.drop("_true", "_basis"))  # the attacks bite first
    protected = suppression.protect(primary.drop("_true", "_basis"))
    assert _attacks(protected) == []
    # what stays published is exactly what came in; every primary cell stays withheld, with no value or basis
    both = protected.with_columns(primary["_true"], primary["suppressed"].alias("was"))
    assert both.filter(pl.col("was") & ~pl.col("suppressed")).height == 0
    shown = both.filter(~pl.col("suppressed"))
    assert shown.height > both.height // 3  # protection is not "withhold everything"
    assert shown.select(((pl.col("value") - pl.col("_true")).abs() < 1e-9) | pl.col("value").is_null()
                        & pl.col("_true").is_null()).to_series().all()
    hidden = both.filter(pl.col("suppressed"))
    assert hidden["value"].null_count() == hidden.height == hidden["basis_count"].null_count()
    # a quarter is one cell in both calendars: withheld in both or in neither
    quarters = both.filter(pl.col("period") != "year").group_by(
        "indicator", "detail", "agency_code", "region_code", "period_start").agg(pl.col("suppressed").n_unique())
    assert quarters["suppressed"].max() == 1


def test_the_cheapest_complement_is_withheld():
    """One small member among three: the next smallest member goes with it, not the total or a larger one."""
    rows = [("events_reported", "ALL", "GLA", 100, False), ("events_reported", "cbp", "GLA", 3, True),
            ("events_reported", "ice", "GLA", 40, False), ("events_reported", "rcmp", "GLA", 57, False)]
    mart = disclosure.one_year_mart(rows)
    protected = suppression.protect(mart)
    withheld = set(protected.filter(pl.col("suppressed"))["agency_code"])
    assert withheld == {"cbp", "ice"}
    assert _attacks(protected) == []


def test_a_share_is_withheld_with_the_count_it_would_reveal():
    rows = [("gotaways", "cbp", "PAC", 2, True), ("gotaways", "ALL", "PAC", 2, True)]
    mart = disclosure.one_year_mart(rows).vstack(disclosure.one_year_mart([("interception_rate", "cbp", "PAC", 0, False)]).with_columns(
        pl.lit(0.9).alias("value"), pl.lit(20, pl.Int64).alias("basis_count"), pl.lit("share").alias("unit")))
    protected = suppression.protect(mart)
    rate = protected.filter(pl.col("indicator") == "interception_rate").row(0, named=True)
    assert rate["suppressed"] and rate["value"] is None and rate["basis_count"] is None


def test_not_additive_indicators_are_not_cube_lines():
    """A median of the members is not their total: a withheld median is not 'recovered' by subtraction, so
    it does not force a published median to be withheld."""
    rows = [("median_sharing_latency_hours", "ALL", "PAC", 30, False),
            ("median_sharing_latency_hours", "cbp", "PAC", 2, True),
            ("median_sharing_latency_hours", "ice", "PAC", 28, False)]
    protected = suppression.protect(disclosure.one_year_mart(rows))
    assert protected["suppressed"].to_list() == [False, True, False]


def test_apply_rewrites_the_table_and_records_the_method():
    mart = synthetic_mart(4).drop("_true", "_basis")
    con = duckdb.connect()
    con.register("m", mart.to_arrow())
    con.execute("CREATE TABLE mart_indicators AS SELECT * FROM m")
    con.unregister("m")
    outcome = suppression.apply(con, THRESHOLD)
    after = con.sql("SELECT * FROM mart_indicators").pl()
    assert outcome.primary == mart["suppressed"].sum() and outcome.cells == mart.height
    assert outcome.secondary == after["suppressed"].sum() - outcome.primary > 0
    assert _attacks(after) == []
    method, threshold, cells, primary, secondary = con.execute(
        "SELECT method, threshold, cells, primary_suppressed, secondary_suppressed FROM meta_suppression").fetchone()
    assert (threshold, cells, primary, secondary) == (THRESHOLD, mart.height, outcome.primary, outcome.secondary)
    assert "hypercube" in method and "linear audit" in method
    comments = dict(con.execute("SELECT column_name, comment FROM duckdb_columns() "
                                "WHERE table_name = 'meta_suppression'").fetchall())
    assert all(comments[c] for c in ("method", "threshold", "cells", "primary_suppressed", "secondary_suppressed"))



def test_a_pattern_no_attack_breaks_is_left_as_it_is():
    """A 2x2 table with margins whose withheld cells (a cell, its row total, its column total and the grand
    total) cannot be worked out (the attacker finds nothing): protection withholds nothing more."""
    inner = {("a", "R1"): 10, ("a", "R2"): 20, ("b", "R1"): 30, ("b", "R2"): 40}
    withheld = {("a", "R1"), ("a", "ALL"), ("ALL", "R1"), ("ALL", "ALL")}
    mart = _two_way(inner, withheld)
    assert _attacks(mart) == []
    protected = suppression.protect(mart)
    assert protected["suppressed"].to_list() == mart["suppressed"].to_list()


def test_on_a_tie_the_member_is_withheld_not_the_total():
    """The complement is the smallest published cell; between a member and a total of the same size the
    member goes (a total is read more, and tells more), wherever the total sits in the table."""
    total = ("events_reported", "ALL", "GLA", 6, False)
    members = [("events_reported", "cbp", "GLA", 0, True), ("events_reported", "ice", "GLA", 6, False)]
    for rows in ([total, *members], [*members, total]):
        protected = suppression.protect(disclosure.one_year_mart(rows))
        withheld = set(protected.filter(pl.col("suppressed"))["agency_code"])
        assert withheld == {"cbp", "ice"}, rows
        assert _attacks(protected) == []


def test_a_region_reported_by_one_agency_withholds_its_total_with_it():
    """In a region only RCMP reports, the region's total is RCMP's figure: when RCMP's cell there is
    withheld (to protect a small cell elsewhere in its row), the total must go too."""
    for seed in (6, 7):
        mart = synthetic_mart(seed, regions=("PAC", "GLA", "NIA"), only={"NIA": ("rcmp",)}).drop("_true", "_basis")
        protected = suppression.protect(mart)
        assert _attacks(protected) == []
        nia = protected.filter(pl.col("region_code") == "NIA")
        both = nia.group_by("indicator", "detail", "calendar", "fiscal_year", "period").agg(
            pl.col("suppressed").n_unique().alias("n"))
        assert both["n"].max() == 1  # RCMP's cell and the region total: withheld together or not at all


def test_a_region_code_that_sorts_before_all_is_a_member_not_a_total():
    """Regions are editable reference data: a code like ABE (before "ALL" in sort order) is a member of the
    region line, so its small cell still gets a complement."""
    mart = synthetic_mart(5, regions=("ABE", "PAC")).drop("_true", "_basis")
    assert mart.filter(pl.col("region_code") == "ABE")["suppressed"].any()
    protected = suppression.protect(mart)
    assert _attacks(protected) == []
    agencies = synthetic_mart(8, agencies=("ABC", "cbp"), regions=("PAC", "GLA")).drop("_true", "_basis")
    assert _attacks(suppression.protect(agencies)) == []  # an agency code before "ALL" too
    # and a detail: outreach programs are details, and AIRPORT_WATCH sorts before "ALL"
    programs = synthetic_mart(9, details=("AIRPORT_WATCH", "BORDER_WATCH")).drop("_true", "_basis")
    assert programs.filter(pl.col("detail") == "AIRPORT_WATCH")["suppressed"].any()
    assert _attacks(suppression.protect(programs)) == []


def test_a_cell_the_totals_determine_gets_its_cheapest_neighbour_withheld():
    """Every line holds two withheld cells or none, yet one cell is fixed: the bridge between two withheld
    rectangles (a1-a2 x R1-R2 and a3-a4 x R3-R4) through a2-R3 sits on no cycle, so the row and column
    totals give it back. The linear audit finds it and withholds its smallest published neighbour (a1-R3,
    which closes a cycle); nothing else."""
    agencies, regions = ("a1", "a2", "a3", "a4"), ("R1", "R2", "R3", "R4", "R5")
    inner = {(a, r): 40 + 3 * i + j for i, a in enumerate(agencies) for j, r in enumerate(regions)}
    inner[("a1", "R3")] = 9  # the cheapest neighbour of the bridge
    withheld = {("a1", "R1"), ("a1", "R2"), ("a2", "R1"), ("a2", "R2"), ("a3", "R3"), ("a3", "R4"), ("a4", "R3"),
                ("a4", "R4"), ("a2", "R3")}
    mart = _two_way(inner, withheld)
    table = disclosure.cells(mart)
    found = disclosure.by_linear_equations(table, disclosure.margins(mart, table))
    assert found == [("events_reported", "", "CAN:2026-27", "a2", "R3")]  # the bridge, and only it
    assert disclosure.by_subtraction(table, disclosure.margins(mart, table)) == []  # no line gives it alone
    protected = suppression.protect(mart)
    added = set(protected.filter(pl.col("suppressed")).select("agency_code", "region_code").iter_rows()) - withheld
    assert added == {("a1", "R3")}
    assert _attacks(protected) == []
    # the cheapest neighbour on the bridge's row instead of its column: that one goes first, whichever line
    # through the bridge is looked at first
    inner[("a1", "R3")], inner[("a2", "R5")] = 50, 9
    mart = _two_way(inner, withheld)
    protected = suppression.protect(mart)
    added = set(protected.filter(pl.col("suppressed")).select("agency_code", "region_code").iter_rows()) - withheld
    assert ("a2", "R5") in added and ("a1", "R3") not in added
    assert _attacks(protected) == []


def test_only_a_share_or_ratio_goes_with_its_count():
    """A withheld count withholds the share built on it (interception rate from gotaways) in the same cell,
    and nothing else: another indicator of that cell stays published."""
    rows = [("gotaways", "cbp", "CHA", 2, True), ("gotaways", "ALL", "CHA", 2, True),
            ("seizures", "cbp", "CHA", 40, False), ("seizures", "ALL", "CHA", 40, False),
            ("events_reported", "cbp", "CHA", 60, False), ("events_reported", "ALL", "CHA", 60, False),
            # another cell: gotaways published, a small seizure count withheld: the rate stays published
            ("gotaways", "cbp", "SWB", 10, False), ("gotaways", "ALL", "SWB", 10, False),
            ("seizures", "cbp", "SWB", 3, True), ("seizures", "ALL", "SWB", 3, True),
            ("events_reported", "cbp", "SWB", 2, True), ("events_reported", "ALL", "SWB", 2, True)]
    rates = [("interception_rate", "cbp", reg, 0, False) for reg in ("CHA", "SWB")]
    mart = disclosure.one_year_mart(rows).vstack(disclosure.one_year_mart(rates).with_columns(
        pl.lit(0.8).alias("value"), pl.lit(50, pl.Int64).alias("basis_count"), pl.lit("share").alias("unit")))
    protected = suppression.protect(mart)
    hidden = set(protected.filter(pl.col("suppressed")).select("indicator", "agency_code", "region_code").iter_rows())
    assert hidden == {("gotaways", "cbp", "CHA"), ("gotaways", "ALL", "CHA"), ("interception_rate", "cbp", "CHA"),
                      ("seizures", "cbp", "SWB"), ("seizures", "ALL", "SWB"), ("events_reported", "cbp", "SWB"),
                      ("events_reported", "ALL", "SWB")}


@pytest.mark.parametrize("seed", [1, 2])
def test_after_the_hypercube_rule_no_line_holds_a_single_withheld_cell(seed):
    """The first stage on its own (the linear audit after it would mend a slip of it, and hide it): in every
    line of the cube (a total and its members) no withheld cell stands alone, and cells are only added."""
    mart = synthetic_mart(seed).drop("_true", "_basis")
    cells = suppression._cells(mart)
    unique = cells.group_by(suppression.KEYS, maintain_order=True).agg(pl.col("suppressed").any(),
                                                                      pl.col("_size").max())
    years = {f"{c}:{fy}": (str(s), str(e)) for c, fy, s, e in mart.filter(pl.col("period") == "year").select(
        "calendar", "fiscal_year", "period_start", "period_end").unique().iter_rows()}
    lines = suppression.lines_of(unique, years)
    before = unique["suppressed"].to_numpy().copy()
    assert any(sum(bool(before[c]) for c in line) == 1 for line in lines)  # the rule has work to do
    cube = suppression.Cube(before.copy(), unique["_size"].to_numpy(), lines)
    cube.hypercube()
    counts = [sum(bool(cube.hidden[c]) for c in line) for line in lines]
    assert all(n == 0 or n >= 2 for n in counts)
    assert all(cube.hidden[before])  # nothing withheld is released
    assert cube.hidden.sum() > before.sum()

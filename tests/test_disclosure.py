"""No withheld cell of the evaluator file can be worked out from what it publishes."""
from __future__ import annotations

import duckdb
import polars as pl
import pytest

from foundation.settings import SUPPRESSION_THRESHOLD
from tests import disclosure
from warehouse import suppression
from warehouse.build import published_path


def _attack(mart: pl.DataFrame) -> set:
    table = disclosure.cells(mart)
    rel = disclosure.margins(mart, table)
    return set(disclosure.by_subtraction(table, rel)) | set(disclosure.by_linear_equations(table, rel))


def test_the_reported_leak_is_found_on_primary_suppression_and_closed_by_complementary():
    """Region UNK, events: ALL = 201, ice = 200, uscg = 1 withheld: uscg = 201 - 200 by subtraction."""
    rows = [("events_reported", "ALL", "UNK", 201, False), ("events_reported", "ice", "UNK", 200, False),
            ("events_reported", "uscg", "UNK", 1, True),
            ("events_reported", "ALL", "ALL", 201, False), ("events_reported", "ice", "ALL", 200, False),
            ("events_reported", "uscg", "ALL", 1, True)]
    primary = disclosure.one_year_mart(rows)
    assert ("events_reported", "", "CAN:2026-27", "uscg", "UNK") in _attack(primary)  # the attack bites
    protected = suppression.protect(primary)
    assert _attack(protected) == set()
    assert protected.filter(pl.col("agency_code") == "ice")["suppressed"].all()  # the complement withheld


def test_two_small_cells_of_a_two_way_table_are_found_and_closed():
    """A 2x2 table with its margins and its two small cells (on the diagonal) withheld: each is the only
    unknown of its row and of its column, so both come back; protected, none does."""
    cells = {("a", "R1"): 10, ("a", "R2"): 3, ("b", "R1"): 2, ("b", "R2"): 20}
    rows = [("events_reported", ag, reg, v, v < 5) for (ag, reg), v in cells.items()]
    rows += [("events_reported", "ALL", "R1", 12, False), ("events_reported", "ALL", "R2", 23, False),
             ("events_reported", "a", "ALL", 13, False), ("events_reported", "b", "ALL", 22, False),
             ("events_reported", "ALL", "ALL", 35, False)]
    primary = disclosure.one_year_mart(rows)
    found = _attack(primary)
    assert ("events_reported", "", "CAN:2026-27", "a", "R2") in found  # a R2 = a ALL - a R1
    assert _attack(suppression.protect(primary)) == set()


def test_rate_times_basis_gives_back_a_withheld_count():
    rows = [("gotaways", "cbp", "CHA", 2, True), ("gotaways", "ALL", "CHA", 2, True)]
    mart = disclosure.one_year_mart(rows).vstack(disclosure.one_year_mart([("interception_rate", "cbp", "CHA", 0, False)]).with_columns(
        pl.lit(0.9).alias("value"), pl.lit(20, pl.Int64).alias("basis_count"), pl.lit("share").alias("unit")))
    found = disclosure.by_rate_times_basis(mart, SUPPRESSION_THRESHOLD)
    assert found and found[0][0] == "interception_rate"  # 0.9 x 20 = 18 caught, 2 gotaways: the attack bites
    assert disclosure.by_rate_times_basis(suppression.protect(mart), SUPPRESSION_THRESHOLD) == []


@pytest.fixture(scope="module")
def evaluator_mart(published) -> tuple[pl.DataFrame, tuple]:
    con = duckdb.connect(str(published_path(published["settings"], "evaluator")), read_only=True)
    try:
        return con.sql("SELECT * FROM mart_indicators").pl(), con.execute(
            "SELECT method, threshold, primary_suppressed, secondary_suppressed FROM meta_suppression").fetchone()
    finally:
        con.close()


def test_published_evaluator_file_withstands_every_attack(evaluator_mart):
    mart, (method, threshold, primary, secondary) = evaluator_mart
    assert threshold == SUPPRESSION_THRESHOLD and "hypercube" in method
    assert primary > 0 and secondary > 0  # small cells there were, and complements were needed
    assert mart["suppressed"].sum() == primary + secondary
    table = disclosure.cells(mart)  # raises if a quarter is withheld in one calendar only
    rel = disclosure.margins(mart, table)
    assert len(rel) > 100 and any(len(m) > 2 for _, m in rel)
    assert disclosure.by_subtraction(table, rel) == []
    assert disclosure.by_linear_equations(table, rel) == []
    assert disclosure.by_rate_times_basis(mart, threshold) == []
    # withheld means withheld: no value, no basis
    hidden = mart.filter(pl.col("suppressed"))
    assert hidden["value"].null_count() == hidden.height and hidden["basis_count"].null_count() == hidden.height

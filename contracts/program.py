"""Program-level files in the ``program/`` inbox (ICD: Program data)."""
import polars as pl

from contracts.base import (CODE, OPERATIONAL, max_length, Contract, _check, boolean_words, col, number_between, parses_date, schema,
                            whole_number_between)
from foundation.reference import region_codes
from foundation.registry import PARTNERS
from foundation.vocabulary import OUTREACH_PROGRAMS

S = pl.Utf8
AGENCY_CODES = list(PARTNERS)
_CODES = "|".join(PARTNERS)
AGENCY_LIST = rf"^({_CODES})([;,]({_CODES}))*$"


def _fiscal_year() -> object:
    # 2006-07: the second year is the first plus one.
    return _check(lambda c: (c.str.slice(0, 4).cast(pl.Int64, strict=False) + 1) % 100
                  == c.str.slice(5, 2).cast(pl.Int64, strict=False), "fiscal_year", "not a fiscal year like 2006-07")


finance = schema("program_finance", {
    "fiscal_year": col(S, OPERATIONAL, "Canadian fiscal year, e.g. 2006-07", nullable=False,
                       regex=r"^\d{4}-\d{2}$", checks=[_fiscal_year()]),
    "agency": col(S, OPERATIONAL, "Agency code", nullable=False, isin=AGENCY_CODES),
    "planned_spending": col(S, OPERATIONAL, "Planned spending", nullable=False, checks=[number_between(0, 1e12)]),
    "actual_spending": col(S, OPERATIONAL, "Actual spending", checks=[number_between(0, 1e12)]),
    "currency": col(S, OPERATIONAL, "CAD/USD", nullable=False, isin=["CAD", "USD"]),
    "note": col(S, OPERATIONAL, "Program note as published (e.g. INSET allocation)", checks=[max_length(200)]),
}, "Planned and actual spending per agency for one fiscal year.")

outreach = schema("program_outreach", {
    "event_id": col(S, OPERATIONAL, "Outreach event id", nullable=False, unique=True, regex=CODE),
    "event_date": col(S, OPERATIONAL, "YYYY-MM-DD", nullable=False, checks=[parses_date("%Y-%m-%d")]),
    "region_code": col(S, OPERATIONAL, "IBET region", nullable=False, isin=region_codes()),
    "program": col(S, OPERATIONAL, "Outreach program", nullable=False,
                   isin=list(OUTREACH_PROGRAMS)),
    "attendees": col(S, OPERATIONAL, "Attendance", checks=[whole_number_between(0, 1000000)]),
    "tips_received": col(S, OPERATIONAL, "Tips received", checks=[whole_number_between(0, 1000000)]),
}, "One row per outreach event.")

radio_tests = schema("program_radio_tests", {
    "test_id": col(S, OPERATIONAL, "Radio test id", nullable=False, unique=True, regex=CODE),
    "test_date": col(S, OPERATIONAL, "YYYY-MM-DD", nullable=False, checks=[parses_date("%Y-%m-%d")]),
    "region_code": col(S, OPERATIONAL, "IBET region", nullable=False, isin=region_codes()),
    "agencies": col(S, OPERATIONAL, "Agencies taking part, ';'-separated", nullable=False, regex=AGENCY_LIST),
    "success": col(S, OPERATIONAL, "Test passed", nullable=False, isin=["true", "false", "1", "0", "Y", "N"],
                   checks=[boolean_words(("true", "1", "Y"), ("false", "0", "N"))]),
}, "One row per cross-border radio interoperability field test.")

FINANCE = Contract("finance", {"rows": finance}, id_column="agency")
OUTREACH = Contract("outreach", {"rows": outreach}, id_column="event_id")
RADIO_TESTS = Contract("radio_tests", {"rows": radio_tests}, id_column="test_id")

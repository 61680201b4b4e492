"""ICE HSI investigation updates ``ice_hsi_cases_YYYYMMDD.parquet`` (ICD: ICE)."""
import datetime as dt

from contracts.pandera_polars import pa
import polars as pl

from foundation.vocabulary import CAVEATS_SENT
from contracts.base import (Key, Person, ALPHA3, CODE, FREE_TEXT, IDENTIFIER, OPERATIONAL, QUASI, Contract, _check, col,
                            number_between, schema, whole_number_between)
from foundation.reference import region_codes
from foundation.registry import PARTNERS

S = pl.Utf8
CATEGORIES = ["NARCOTICS", "WEAPONS", "HUMAN_SMUGGLING", "FINANCIAL", "NATSEC"]
_PARTNERS = "|".join(code.upper() for code in PARTNERS)
#: the partner agencies ICE names, comma-joined: only agency codes of the registry
PARTNER_LIST = rf"^(?:(?:{_PARTNERS})(?:,(?:{_PARTNERS}))*)?$"


def date_between(lo: dt.date, hi: dt.date) -> pa.Check:
    return _check(lambda c: c.is_between(lo, hi), "date_between", f"date not between {lo} and {hi}")


cases = schema("ice_cases", {
    "case_number": col(S, OPERATIONAL, "HSI case number", nullable=False, unique=True, regex=CODE),
    "opened_on": col(pl.Date, OPERATIONAL, "Date the case was opened", nullable=False,
                     checks=[date_between(dt.date(1990, 1, 1), dt.date(2100, 1, 1))]),
    "updated_at": col(pl.Datetime("us", "UTC"), OPERATIONAL, "Update time, UTC", nullable=False),
    "category": col(S, OPERATIONAL, "Case category", nullable=False, isin=CATEGORIES),
    "status": col(S, OPERATIONAL, "Case status", nullable=False, isin=["OPEN", "CLOSED_ARREST", "CLOSED_NO_ACTION"]),
    "best_team": col(pl.Boolean, OPERATIONAL, "Case worked by a BEST task force"),
    "ibet_region": col(S, OPERATIONAL, "IBET region code", isin=region_codes()),
    "arrests": col(pl.Int64, OPERATIONAL, "Arrests", checks=[whole_number_between(0, 100000)]),
    "seized_usd": col(pl.Float64, OPERATIONAL, "Seized value, USD", checks=[number_between(0, 1e12)]),
    "partner_agencies": col(S, OPERATIONAL, "Partner agencies, comma-joined by the reader",
                            regex=PARTNER_LIST),
    "summary": col(S, FREE_TEXT, "Case summary (dropped before the lake)"),
    "caveat": col(S, OPERATIONAL, "Releasability caveat", nullable=False, isin=CAVEATS_SENT["USA"]),
}, "One row per case touched that day.")

subjects = schema("ice_subjects", {
    "name": col(S, IDENTIFIER, "Subject name (LAST, FIRST or FIRST LAST)"),
    "dob": col(pl.Date, IDENTIFIER, "Date of birth",
               checks=[date_between(dt.date(1900, 1, 1), dt.date(2100, 1, 1))]),
    "passport_no": col(S, IDENTIFIER, "Passport number", key=Key("document_key", "DOCUMENT", issuer="nationality")),
    "nationality": col(S, QUASI, "alpha-3", regex=ALPHA3),
}, "One row per subject of a case.")

CONTRACT = Contract("ice", {"cases": cases, "subjects": subjects}, id_column="case_number",
                    parents={"subjects": "cases"},
                    persons={"subjects": Person(name="name", name_format="either", dob="dob")})

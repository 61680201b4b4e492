"""The domain's vocabulary, defined once: categories, commodities, actions, caveats, fiscal calendars.

Contracts (allowed codes), transforms (taxonomy), the warehouse (dimension tables and SQL
macros), the generator, the gate and the docs all read these. A code added here is known
everywhere; nothing else in the tree spells these lists out.
"""
from __future__ import annotations

import datetime as dt
import re

#: canonical threat category -> (label, what maps to it) (DOMAIN.md)
CATEGORIES: dict[str, tuple[str, str]] = {
    "DRUGS": ("Drugs", "RCMP DRUG, ICE NARCOTICS, CBP drug_type, seized drugs"),
    "FIREARMS": ("Firearms", "RCMP FIREARM, ICE WEAPONS, firearms seized"),
    "HUMAN_SMUGGLING": ("Human smuggling", "RCMP/ICE HUMAN_SMUGGLING, CBP groups of 3 or more"),
    "TOBACCO": ("Tobacco", "contraband tobacco"),
    "CURRENCY": ("Currency", "undeclared currency, proceeds of crime"),
    "NATSEC": ("National security", "RCMP/ICE NATSEC"),
    "ILLEGAL_ENTRY": ("Illegal entry", "illegal crossings, refusals, CBP GOTAWAY"),
    "FINANCIAL": ("Financial crime", "ICE FINANCIAL"),
    "OTHER": ("Other", "anything else (boardings, warnings, referrals)"),
}

#: commodity code (the RCMP codes, which CBSA and USCG use too) -> (category, how it is measured)
COMMODITIES: dict[str, tuple[str, str]] = {
    "COCAINE": ("DRUGS", "kg"), "METH": ("DRUGS", "kg"), "FENTANYL": ("DRUGS", "kg"), "CANNABIS": ("DRUGS", "kg"),
    "FIREARMS": ("FIREARMS", "units"), "TOBACCO": ("TOBACCO", "kg"), "CURRENCY": ("CURRENCY", "value"),
}
#: the canonical commodity of a goods line whose commodity the agency did not name
UNSPECIFIED = "UNSPECIFIED"
#: the codes partners send (contracts allow exactly these)
COMMODITY_CODES: tuple[str, ...] = tuple(COMMODITIES)
#: counted, not weighed: quantities must be whole numbers
COUNTED = tuple(c for c, (_, measure) in COMMODITIES.items() if measure == "units")

ACTIONS = ("OCCURRENCE", "SEIZURE", "ARREST", "APPREHENSION", "REFUSAL", "REFERRAL", "GOTAWAY",
           "BOARDING", "WARNING", "INVESTIGATION")

#: releasability caveats (DOMAIN.md): shared with all partners, Canada's, the US's, originator-controlled
REL_IBET, REL_CAN, REL_USA, ORCON = "REL_IBET", "REL_CAN", "REL_USA", "ORCON"
CAVEATS = (REL_IBET, REL_CAN, REL_USA, ORCON)
#: the caveats a partner of each country may send
CAVEATS_SENT = {"CAN": [REL_IBET, REL_CAN, ORCON], "USA": [REL_IBET, REL_USA, ORCON]}

#: outreach programs (DOMAIN.md: Border Watch, Inn Touch, Coastal/Airport Watch)
OUTREACH_PROGRAMS = ("BORDER_WATCH", "INN_TOUCH", "COASTAL_WATCH", "AIRPORT_WATCH")

#: fiscal calendar -> first month of its year (Canada April-March, US October-September)
FISCAL_START_MONTH = {"CAN": 4, "USA": 10}


def commodity_category_sql(expr: str) -> str:
    """SQL mapping a commodity code to its category (anything else is OTHER)."""
    whens = " ".join(f"WHEN '{c}' THEN '{k}'" for c, (k, _) in COMMODITIES.items())
    return f"CASE {expr} {whens} ELSE 'OTHER' END"


def fiscal_year(day: dt.date, calendar: str = "CAN") -> str:
    """``2006-07`` (Canada, April-March) or ``FY2007`` (US, October-September) for ``day``."""
    start = FISCAL_START_MONTH[calendar]
    if calendar == "CAN":
        first = day.year if day.month >= start else day.year - 1
        return f"{first}-{(first + 1) % 100:02d}"
    return f"FY{day.year + 1 if day.month >= start else day.year}"


def fiscal_year_bounds(label: str) -> tuple[dt.date, dt.date]:
    """First and last day of a fiscal year label of either calendar."""
    if label.upper().startswith("FY"):
        end_year = int(label[2:])
        return dt.date(end_year - 1, FISCAL_START_MONTH["USA"], 1), dt.date(end_year, FISCAL_START_MONTH["USA"] - 1, 30)
    first = int(label[:4])
    return dt.date(first, FISCAL_START_MONTH["CAN"], 1), dt.date(first + 1, FISCAL_START_MONTH["CAN"] - 1, 31)


def parse_fiscal_year(label: str) -> tuple[str, str]:
    """``2006-07`` -> ("CAN", "2006-07"); ``FY2007`` -> ("USA", "FY2007"); anything else is an error."""
    text = label.strip()
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if m:
        if (int(m.group(1)) + 1) % 100 != int(m.group(2)):
            raise ValueError(f"{label!r}: a Canadian fiscal year spans two consecutive years, e.g. 2006-07")
        return "CAN", text
    m = re.fullmatch(r"(?i)FY\s?(\d{4})", text)
    if m:
        return "USA", f"FY{m.group(1)}"
    raise ValueError(f"{label!r} is not a fiscal year: use 2006-07 (Canada, April-March) "
                     f"or FY2007 (US, October-September)")

"""CBP (U.S. Border Patrol, northern sectors) ``CBP_NB_YYYYMMDD.csv`` (ICD: CBP)."""
import polars as pl

from foundation.vocabulary import CAVEATS_SENT
from contracts.base import (Key, Person, ALPHA3, CODE, FREE_TEXT, PLACE_NAME, max_length, IDENTIFIER, OPERATIONAL, QUASI, Contract, col, dms,
                            number_between, parses_date, parses_datetime, schema, whole_number_between)

SECTORS = ["BLW", "SPW", "HVM", "GFN", "DTM", "BUN", "SWB", "HLT"]
TZ_ABBREVIATIONS = {"PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6, "CDT": -5, "EST": -5, "EDT": -4}
EVENT_TYPES = ["APPREHENSION", "SEIZURE", "BOTH", "GOTAWAY"]
DRUGS = ["COCAINE", "METH", "FENTANYL", "MARIJUANA"]
S = pl.Utf8

events = schema("cbp_events", {
    "event_no": col(S, OPERATIONAL, "Event number, unique", nullable=False, unique=True, regex=CODE),
    "event_date": col(S, OPERATIONAL, "Local time of the sector station, MM/DD/YYYY hh:mm AM",
                      nullable=False, checks=[parses_datetime("%m/%d/%Y %I:%M %p")]),
    "tz": col(S, OPERATIONAL, "US zone abbreviation", nullable=False, isin=list(TZ_ABBREVIATIONS)),
    "sector": col(S, OPERATIONAL, "Border Patrol sector code", nullable=False, isin=SECTORS),
    "station": col(S, OPERATIONAL, "Station name", regex=PLACE_NAME, checks=[max_length(40)]),
    "lat_dms": col(S, OPERATIONAL, "Latitude D°M'S\"N", checks=[dms("NS", 90)]),
    "lon_dms": col(S, OPERATIONAL, "Longitude D°M'S\"W", checks=[dms("EW", 180)]),
    "event_type": col(S, OPERATIONAL, "APPREHENSION/SEIZURE/BOTH/GOTAWAY", nullable=False, isin=EVENT_TYPES),
    "subject_name": col(S, IDENTIFIER, "LAST, FIRST MIDDLE"),
    "dob": col(S, IDENTIFIER, "MM/DD/YYYY", checks=[parses_date("%m/%d/%Y")]),
    "a_number": col(S, IDENTIFIER, "Alien registration number", key=Key("anumber_key", "ANUMBER"), regex=r"^A\d{9}$"),
    "passport_no": col(S, IDENTIFIER, "Passport number", key=Key("document_key", "DOCUMENT", issuer="passport_country")),
    "passport_country": col(S, OPERATIONAL, "Passport issuer, alpha-3", regex=ALPHA3),
    "nationality": col(S, QUASI, "alpha-3", regex=ALPHA3),
    "persons_apprehended": col(S, OPERATIONAL, "Group size", checks=[whole_number_between(0, 10000)]),
    "drug_type": col(S, OPERATIONAL, "Drug code (MARIJUANA, not CANNABIS)", isin=DRUGS),
    "drug_lbs": col(S, OPERATIONAL, "Pounds", checks=[number_between(0, 1e9)]),
    "currency_usd": col(S, OPERATIONAL, "USD seized", checks=[number_between(0, 1e12)]),
    "firearms_count": col(S, OPERATIONAL, "Firearms seized", checks=[whole_number_between(0, 100000)]),
    "remarks": col(S, FREE_TEXT, "Remarks (dropped before the lake)"),
    "release": col(S, OPERATIONAL, "Releasability caveat", nullable=False, isin=CAVEATS_SENT["USA"]),
}, "One row per Border Patrol event on the northern border.")

CONTRACT = Contract("cbp", {"events": events}, id_column="event_no",
                    persons={"events": Person(name="subject_name", name_format="last_first", dob="dob")})

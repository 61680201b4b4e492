"""USCG maritime interdiction reports ``USCG_MIR_YYYYMMDD.xml`` (ICD: USCG)."""
import polars as pl

from foundation.vocabulary import CAVEATS_SENT, COMMODITY_CODES
from contracts.base import (Key, Person, ALPHA3, FREE_TEXT, VESSEL_NAME, max_length, IDENTIFIER, OPERATIONAL, QUASI, Contract, boolean_words, col,
                            degrees_decimal_minutes, dtg_zulu, number_between, parses_date, schema,
                            whole_number_between)

S = pl.Utf8
#: the ICD's interdiction outcomes (the generator writes exactly these)
OUTCOMES = ["BOARDING", "SEIZURE", "ARREST", "WARNING"]
DTG = r"^(0[1-9]|[12]\d|3[01])([01]\d|2[0-3])[0-5]\dZ (JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC) \d{2}$"

interdictions = schema("uscg_interdictions", {
    "id": col(S, OPERATIONAL, "Interdiction id, e.g. D13-26-0457", nullable=False, unique=True,
              regex=r"^D\d{1,2}-\d{2}-\d{4,}$"),
    "dtg": col(S, OPERATIONAL, "Date-time group ddhhmmZ MON yy (UTC)", nullable=False, regex=DTG,
               checks=[dtg_zulu()]),
    "district": col(S, OPERATIONAL, "Coast Guard district", nullable=False, isin=["D1", "D9", "D13"]),
    "lat": col(S, OPERATIONAL, "Degrees and decimal minutes, N/S", checks=[degrees_decimal_minutes("NS", 90)]),
    "lon": col(S, OPERATIONAL, "Degrees and decimal minutes, E/W", checks=[degrees_decimal_minutes("EW", 180)]),
    "vessel_name": col(S, OPERATIONAL, "Vessel name", regex=VESSEL_NAME, checks=[max_length(40)]),
    "vessel_hin": col(S, IDENTIFIER, "Hull identification number", key=Key("vessel_key", "VESSEL")),
    "vessel_mmsi": col(S, OPERATIONAL, "MMSI", regex=r"^\d{9}$"),
    "vessel_flag": col(S, OPERATIONAL, "Flag state, alpha-3", regex=ALPHA3),
    "vessel_type": col(S, OPERATIONAL, "Vessel type", isin=["PLEASURE", "FISHING", "CARGO", "OTHER"]),
    "master_name": col(S, IDENTIFIER, "Master's name"),
    "master_dob": col(S, IDENTIFIER, "YYYY-MM-DD", checks=[parses_date("%Y-%m-%d")]),
    "master_nationality": col(S, QUASI, "alpha-3", regex=ALPHA3),
    "persons_aboard": col(S, OPERATIONAL, "Persons aboard", checks=[whole_number_between(0, 10000)]),
    "outcome": col(S, OPERATIONAL, "BOARDING/SEIZURE/ARREST/WARNING", nullable=False,
                   isin=OUTCOMES),
    "shiprider": col(S, OPERATIONAL, "Joint patrol with an RCMP officer aboard", isin=["true", "false"],
                     checks=[boolean_words(("true",), ("false",))]),
    "narrative": col(S, FREE_TEXT, "Narrative (the reader never extracts it)"),
    "caveat": col(S, OPERATIONAL, "Releasability caveat", nullable=False, isin=CAVEATS_SENT["USA"]),
}, "One row per Interdiction element.")

seizures = schema("uscg_seizures", {
    "commodity": col(S, OPERATIONAL, "Commodity code", nullable=False,
                     isin=list(COMMODITY_CODES)),
    "kg": col(S, OPERATIONAL, "Kilograms", checks=[number_between(0, 1e9)]),
    "value_usd": col(S, OPERATIONAL, "Value, USD", checks=[number_between(0, 1e12)]),
}, "One row per Seizure element of an interdiction.")

CONTRACT = Contract("uscg", {"interdictions": interdictions, "seizures": seizures}, id_column="id",
                    parents={"seizures": "interdictions"},
                    persons={"interdictions": Person(name="master_name", name_format="either", dob="master_dob")})

"""RCMP occurrence extract ``RCMP_IBET_OCC_YYYYMMDD.csv`` (ICD: RCMP)."""
import polars as pl

from foundation.vocabulary import CAVEATS_SENT, COMMODITY_CODES
from contracts.base import (Key, Person, ALPHA3, CODE, FREE_TEXT, PLACE_NAME, max_length, whole_when, IANA_ZONES, IDENTIFIER, OPERATIONAL, QUASI, Contract,
                            col, number_between, parses_date, parses_datetime, schema)

OCCURRENCE_TYPES = ["DRUG", "FIREARM", "HUMAN_SMUGGLING", "TOBACCO", "CURRENCY", "NATSEC", "ILLEGAL_ENTRY", "OTHER"]
S = pl.Utf8

occurrences = schema("rcmp_occurrences", {
    "occurrence_id": col(S, OPERATIONAL, "Occurrence number, unique across all days", nullable=False,
                         unique=True, regex=r"^\d{4}-\d{6}$"),
    "reported_local": col(S, OPERATIONAL, "Local wall time of the detachment", nullable=False,
                          checks=[parses_datetime("%Y-%m-%d %H:%M")]),
    "detachment_tz": col(S, OPERATIONAL, "IANA time zone of the detachment", nullable=False, isin=IANA_ZONES),
    "detachment": col(S, OPERATIONAL, "Detachment name", nullable=False, regex=PLACE_NAME,
                      checks=[max_length(40)]),
    "latitude": col(S, OPERATIONAL, "Decimal degrees", checks=[number_between(-90, 90)]),
    "longitude": col(S, OPERATIONAL, "Decimal degrees", checks=[number_between(-180, 180)]),
    "occurrence_type": col(S, OPERATIONAL, "Occurrence type code", nullable=False, isin=OCCURRENCE_TYPES),
    "intel_led": col(S, OPERATIONAL, "Y when the occurrence came from intelligence", nullable=False, isin=["Y", "N"]),
    "joint_operation_id": col(S, OPERATIONAL, "Joint operation, e.g. JOP-PAC-0042", regex=CODE),
    "subject_surname": col(S, IDENTIFIER, "Subject surname"),
    "subject_given_names": col(S, IDENTIFIER, "Subject given names"),
    "subject_dob": col(S, IDENTIFIER, "Subject date of birth",
                       checks=[parses_date("%Y-%m-%d")]),
    "subject_gender": col(S, QUASI, "M/F/X", isin=["M", "F", "X"]),
    "subject_citizenship": col(S, QUASI, "ISO 3166 alpha-3", regex=ALPHA3),
    "licence_plate": col(S, IDENTIFIER, "Licence plate", key=Key("plate_key", "PLATE", issuer="plate_jurisdiction")),
    "plate_jurisdiction": col(S, OPERATIONAL, "2-letter province/state", regex=r"^[A-Z]{2}$"),
    "seizure_commodity": col(S, OPERATIONAL, "Seized commodity code", isin=list(COMMODITY_CODES)),
    "seizure_quantity": col(S, OPERATIONAL, "Quantity in seizure_unit",
                            checks=[number_between(0, 1e9), whole_when("seizure_unit", ("units",))]),
    "seizure_unit": col(S, OPERATIONAL, "kg/g/units/CAD", isin=["kg", "g", "units", "CAD"]),
    "seizure_value_cad": col(S, OPERATIONAL, "Estimated value, CAD", checks=[number_between(0, 1e12)]),
    "narrative": col(S, FREE_TEXT, "Narrative (dropped before the lake)"),
    "caveat": col(S, OPERATIONAL, "Releasability caveat", nullable=False, isin=CAVEATS_SENT["CAN"]),
}, "One row per RCMP occurrence reported that day.")

CONTRACT = Contract("rcmp", {"occurrences": occurrences}, id_column="occurrence_id",
                    persons={"occurrences": Person(surname="subject_surname", given="subject_given_names",
                                                   dob="subject_dob")})

"""CBSA enforcement events ``cbsa_enforcement_YYYY-MM-DD.jsonl`` (ICD: CBSA).

The reader flattens each event into three levels: the event (with its location and
conveyance), its persons and its goods lines; each level has its own schema and counts.
"""
import polars as pl

from foundation.vocabulary import CAVEATS_SENT, COMMODITY_CODES
from contracts.base import (Key, Person, ALPHA3, FREE_TEXT, whole_when, IDENTIFIER, OPERATIONAL, QUASI, Contract, col,
                            iso8601_with_offset, number_between, parses_date, schema)

S, F, B = pl.Utf8, pl.Float64, pl.Boolean
#: the ICD's event actions (the generator writes exactly these)
ACTIONS = ["SEIZURE", "ARREST", "REFUSAL", "REFERRAL"]

events = schema("cbsa_events", {
    "event_ref": col(S, OPERATIONAL, "Event reference CBSA-YY-NNNNNNN", nullable=False, unique=True,
                     regex=r"^CBSA-\d{2}-\d{7}$"),
    "occurred_at": col(S, OPERATIONAL, "ISO 8601 with offset", nullable=False, checks=[iso8601_with_offset()]),
    "office_code": col(S, OPERATIONAL, "CBSA office, 4 digits", nullable=False, regex=r"^\d{4}$"),
    "between_ports": col(B, OPERATIONAL, "Event between ports of entry"),
    "action": col(S, OPERATIONAL, "SEIZURE/ARREST/REFUSAL/REFERRAL", nullable=False,
                  isin=ACTIONS),
    "lat": col(F, OPERATIONAL, "location.lat", checks=[number_between(-90, 90)]),
    "lon": col(F, OPERATIONAL, "location.lon", checks=[number_between(-180, 180)]),
    "conveyance_mode": col(S, OPERATIONAL, "conveyance.mode", isin=["ROAD", "RAIL", "MARINE", "AIR", "FOOT"]),
    "conveyance_plate": col(S, IDENTIFIER, "conveyance.plate", key=Key("plate_key", "PLATE")),
    "officer_notes": col(S, FREE_TEXT, "Officer notes (dropped before the lake)"),
    "caveat": col(S, OPERATIONAL, "Releasability caveat", nullable=False, isin=CAVEATS_SENT["CAN"]),
}, "One row per CBSA enforcement event.")

persons = schema("cbsa_persons", {
    "family_name": col(S, IDENTIFIER, "Family name"),
    "given_name": col(S, IDENTIFIER, "Given name"),
    "birth_date": col(S, IDENTIFIER, "DD/MM/YYYY", checks=[parses_date("%d/%m/%Y")]),
    "sex": col(S, QUASI, "M/F/X", isin=["M", "F", "X"]),
    "nationality": col(S, QUASI, "alpha-3", regex=ALPHA3),
    "doc_type": col(S, OPERATIONAL, "travel_doc.type", isin=["PASSPORT", "NEXUS", "PR_CARD"]),
    "doc_number": col(S, IDENTIFIER, "travel_doc.number", key=Key("document_key", "DOCUMENT", issuer="doc_issuer")),
    "doc_issuer": col(S, OPERATIONAL, "travel_doc.issuer, alpha-3", regex=ALPHA3),
}, "One row per person named by an event.")

goods = schema("cbsa_goods", {
    "commodity": col(S, OPERATIONAL, "Commodity code (RCMP codes)", nullable=False, isin=list(COMMODITY_CODES)),
    "quantity": col(F, OPERATIONAL, "Quantity in uom", checks=[number_between(0, 1e9), whole_when("uom", ("NMB",))]),
    "uom": col(S, OPERATIONAL, "KGM/GRM/NMB", isin=["KGM", "GRM", "NMB"]),
    "value_cad": col(F, OPERATIONAL, "Value, CAD", checks=[number_between(0, 1e12)]),
}, "One row per goods line of an event.")

CONTRACT = Contract("cbsa", {"events": events, "persons": persons, "goods": goods}, id_column="event_ref",
                    parents={"persons": "events", "goods": "events"},
                    persons={"persons": Person(surname="family_name", given="given_name", dob="birth_date")})

"""The canonical model every agency is normalized into (column order and types).

All times are UTC, all masses kg, all coordinates decimal degrees, one category and
commodity taxonomy. Personal data appears only as keyed pseudonyms (64 hex characters)
and quasi-identifiers generalized (birth year, sex, nationality).
"""
from __future__ import annotations

#: table -> ordered (column, DuckDB type)
TABLES: dict[str, list[tuple[str, str]]] = {
    "events": [
        ("event_uid", "VARCHAR"), ("source_id", "VARCHAR"), ("occurred_at", "TIMESTAMPTZ"),
        ("event_date", "DATE"), ("region_code", "VARCHAR"), ("region_source", "VARCHAR"),
        ("latitude", "DOUBLE"), ("longitude", "DOUBLE"), ("in_ibet_area", "BOOLEAN"),
        ("category", "VARCHAR"), ("action", "VARCHAR"), ("is_interdiction", "BOOLEAN"),
        ("intel_led", "BOOLEAN"), ("joint_operation_id", "VARCHAR"), ("is_joint", "BOOLEAN"),
        ("reporting_unit", "VARCHAR"), ("persons_count", "INTEGER"), ("arrests", "INTEGER"),
        ("status", "VARCHAR"), ("caveat", "VARCHAR"), ("source_file", "VARCHAR"),
        ("source_checksum", "VARCHAR"), ("source_row", "BIGINT"), ("received_at", "TIMESTAMPTZ"),
    ],
    "subjects": [
        ("event_uid", "VARCHAR"), ("subject_seq", "INTEGER"), ("role", "VARCHAR"), ("person_key", "VARCHAR"),
        ("document_key", "VARCHAR"), ("document_type", "VARCHAR"), ("document_issuer", "VARCHAR"),
        ("anumber_key", "VARCHAR"), ("birth_year", "SMALLINT"), ("sex", "VARCHAR"), ("nationality", "VARCHAR"),
        ("caveat", "VARCHAR"), ("name_mixed_script", "BOOLEAN"),
    ],
    "seizures": [
        ("event_uid", "VARCHAR"), ("seizure_seq", "INTEGER"), ("commodity", "VARCHAR"), ("category", "VARCHAR"),
        ("quantity_kg", "DOUBLE"), ("quantity_units", "DOUBLE"), ("value", "DOUBLE"), ("currency", "VARCHAR"),
        ("caveat", "VARCHAR"),
    ],
    "conveyances": [
        ("event_uid", "VARCHAR"), ("mode", "VARCHAR"), ("plate_key", "VARCHAR"), ("plate_jurisdiction", "VARCHAR"),
        ("vessel_key", "VARCHAR"), ("vessel_name", "VARCHAR"), ("vessel_mmsi", "VARCHAR"),
        ("vessel_flag", "VARCHAR"), ("vessel_type", "VARCHAR"), ("caveat", "VARCHAR"),
    ],
    "finance": [
        ("agency_code", "VARCHAR"), ("planned_spending", "DOUBLE"), ("actual_spending", "DOUBLE"),
        ("currency", "VARCHAR"), ("note", "VARCHAR"), ("source_file", "VARCHAR"), ("source_checksum", "VARCHAR"),
    ],
    "outreach": [
        ("event_id", "VARCHAR"), ("event_date", "DATE"), ("region_code", "VARCHAR"), ("program", "VARCHAR"),
        ("attendees", "INTEGER"), ("tips_received", "INTEGER"), ("source_file", "VARCHAR"),
        ("source_checksum", "VARCHAR"),
    ],
    "radio_tests": [
        ("test_id", "VARCHAR"), ("test_date", "DATE"), ("region_code", "VARCHAR"), ("agencies", "VARCHAR"),
        ("agency_count", "INTEGER"), ("cross_border", "BOOLEAN"), ("success", "BOOLEAN"),
        ("source_file", "VARCHAR"), ("source_checksum", "VARCHAR"),
    ],
}

#: Columns holding keyed pseudonyms (64 lowercase hex characters).
PSEUDONYM_COLUMNS = ("person_key", "document_key", "anumber_key", "plate_key", "vessel_key")

LB_TO_KG = 0.45359237

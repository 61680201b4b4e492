"""The contracts are the single source of truth: every column classed, every class honoured."""
from __future__ import annotations

import pytest

from contracts.base import FREE_TEXT, IDENTIFIER, PRIVACY_CLASSES, describe_markdown, privacy_of
from ibet.registry import AGENCIES, sources
from transforms.canonical import PSEUDONYM_COLUMNS, TABLES


@pytest.mark.parametrize("source", sources(), ids=lambda s: s.name)
def test_every_column_has_a_privacy_class(source):
    contract = source.contract().CONTRACT
    assert contract.levels
    for level, sch in contract.levels.items():
        classes = privacy_of(sch)
        assert classes, level
        unclassed = [c for c, p in classes.items() if p not in PRIVACY_CLASSES]
        assert not unclassed, f"{source.name}.{level}: no privacy class for {unclassed}"


def test_identifiers_and_free_text_of_the_icd_are_classed_as_such():
    expected = {"rcmp": {"subject_surname", "subject_given_names", "subject_dob", "licence_plate", "narrative"},
                "cbp": {"subject_name", "dob", "a_number", "passport_no", "remarks"},
                "cbsa": {"family_name", "given_name", "birth_date", "doc_number", "conveyance_plate", "officer_notes"},
                "ice": {"name", "dob", "passport_no", "summary"},
                "uscg": {"vessel_hin", "master_name", "master_dob", "narrative"}}
    for s in sources():
        if s.name not in expected:
            continue
        sensitive = {c for sch in s.contract().CONTRACT.levels.values()
                     for c, p in privacy_of(sch).items() if p in (IDENTIFIER, FREE_TEXT)}
        assert sensitive == expected[s.name], s.name


def test_no_sensitive_column_name_in_canonical_model():
    canonical = {c for cols in TABLES.values() for c, _ in cols}
    sensitive = {c for s in sources() for sch in s.contract().CONTRACT.levels.values()
                 for c, p in privacy_of(sch).items() if p in (IDENTIFIER, FREE_TEXT)}
    assert not canonical & sensitive
    assert set(PSEUDONYM_COLUMNS) <= canonical


def test_contract_docs_show_classes():
    md = describe_markdown(AGENCIES["cbsa"].sources[0].contract().CONTRACT)
    assert "| family_name | String | identifier → person_key |" in md
    assert "free_text" in md


def test_registry_file_names():
    rcmp = AGENCIES["rcmp"].sources[0]
    assert rcmp.match("RCMP_IBET_OCC_20261103.csv") == "2026-11-03"
    assert rcmp.match("RCMP_IBET_OCC_20261340.csv") is None
    assert AGENCIES["program"].sources[0].match("finance_2006-07.csv") == "2006-07"
    import datetime as dt
    assert AGENCIES["cbsa"].sources[0].filename_for(dt.date(2026, 1, 2)) == "cbsa_enforcement_2026-01-02.jsonl"


def test_quarantine_keeps_failing_values_of_operational_columns_only():
    """A bad occurrence type is kept (it helps the agency fix its feed); a bad date of birth, a bad
    citizenship or a bad plate jurisdiction next to a plate is a person's data: reason only, no value."""
    import polars as pl

    from contracts.rcmp import CONTRACT
    from contracts.validate import validate
    from transforms.readers import ROW

    good = {c: None for c in CONTRACT.levels["occurrences"].columns}
    good.update(occurrence_id="2026-000001", reported_local="2026-11-03 10:00", detachment_tz="America/Toronto",
                detachment="Lacolle", occurrence_type="DRUG", intel_led="N", caveat="REL_IBET")
    rows = [dict(good), dict(good, occurrence_id="2026-000002", subject_dob="03.12.1971"),
            dict(good, occurrence_id="2026-000003", subject_citizenship="Qxzzkmw"),
            dict(good, occurrence_id="2026-000004", occurrence_type="SMUGGLING_X")]
    df = pl.DataFrame(rows, schema={c: pl.Utf8 for c in good}).with_row_index(ROW, offset=1).with_columns(
        pl.col(ROW).cast(pl.Int64))
    v = validate(CONTRACT, {"occurrences": df})
    q = {r["source_id"]: r for r in v.quarantine.to_dicts()}
    assert set(q) == {"2026-000002", "2026-000003", "2026-000004"} and v.loaded == {"occurrences": 1}
    assert q["2026-000004"]["operational_values"] == "occurrence_type=SMUGGLING_X"
    for sid, column in (("2026-000002", "subject_dob"), ("2026-000003", "subject_citizenship")):
        assert q[sid]["columns"] == column and column in q[sid]["reason"]
        assert not q[sid]["operational_values"]  # neither the value nor the column=value pair
    text = str(v.quarantine.to_dicts())
    assert "1971" not in text and "Qxzzkmw" not in text

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

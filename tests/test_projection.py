"""Privacy by construction: the contract's metadata alone decides what an agency transform can see."""
from __future__ import annotations

import dataclasses
import hashlib
import hmac

import duckdb
import polars as pl
import pytest

from contracts.base import IDENTIFIER, Key, col, schema
from contracts.projection import project
from contracts.rcmp import CONTRACT as RCMP
from foundation import privacy

KEY = bytes(range(7, 39))


def _frame(extra: dict[str, str] | None = None) -> pl.DataFrame:
    row = {c: None for c in RCMP.levels["occurrences"].columns}
    row.update(occurrence_id="2026-000001", subject_surname="Tremblay", subject_given_names="Marie Ève",
               subject_dob="1971-12-03", licence_plate="ABC 123", plate_jurisdiction="QC", narrative="seen near dock",
               caveat="REL_IBET", **(extra or {}))
    return pl.DataFrame([row], schema={c: pl.Utf8 for c in row}).with_columns(
        pl.lit(0, pl.Int64).alias("_pos"), pl.lit(1, pl.Int64).alias("_row"))


def _python_hmac(domain: str, message: str) -> str:
    return hmac.new(KEY, f"{domain}|{message}".encode(), hashlib.sha256).hexdigest()


def test_an_identifier_added_to_a_contract_comes_out_pseudonymized_without_sql():
    """A new column with a Key, no SQL written: the transform sees its pseudonym (the same as Python's
    hmac), whether it was sent, and never its value."""
    level = RCMP.levels["occurrences"]
    columns = {**level.columns, "second_passport": col(pl.Utf8, IDENTIFIER, "Second passport number",
                                                        key=Key("second_document_key", "DOCUMENT",
                                                                issuer="plate_jurisdiction"))}
    contract = dataclasses.replace(RCMP, levels={"occurrences": schema("x", columns, "with a new identifier")})
    con = privacy.connect(KEY)
    try:
        project(con, contract, {"occurrences": _frame({"second_passport": "zx-998877"})})
        got = con.sql("SELECT * FROM p_occurrences").pl()
    finally:
        con.close()
    assert "second_passport" not in got.columns and got["has_second_passport"].to_list() == [True]
    assert got["second_document_key"].to_list() == [_python_hmac("DOCUMENT", "QC|ZX998877")]
    assert got["plate_key"].to_list() == [_python_hmac("PLATE", "QC|ABC123")]
    assert got["person_key"].to_list() == [_python_hmac("PERSON", "TREMBLAY|MARIE|1971-12-03")]
    assert got["birth_year"].to_list() == [1971]
    raw = " ".join(map(str, got.row(0)))
    for value in ("Tremblay", "Marie", "1971-12-03", "ABC 123", "zx-998877", "seen near dock"):
        assert value not in raw


def test_a_transform_that_selects_a_raw_column_fails_loudly():
    con = privacy.connect(KEY)
    try:
        project(con, RCMP, {"occurrences": _frame()})
        columns = {r[0] for r in con.execute("DESCRIBE p_occurrences").fetchall()}
        assert "narrative" not in columns and "has_narrative" not in columns  # free text: nothing at all
        for raw in ("subject_surname", "subject_dob", "licence_plate", "narrative"):
            with pytest.raises(duckdb.BinderException, match=raw):
                con.execute(f"SELECT {raw} FROM p_occurrences")
        with pytest.raises(duckdb.CatalogException):  # the validated frame itself is not reachable
            con.execute("SELECT * FROM v_occurrences")
        names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() UNION ALL "
                                           "SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        assert not any("raw" in n or n.startswith("v_") for n in names)
    finally:
        con.close()


def test_a_key_on_a_column_that_is_not_an_identifier_is_refused():
    with pytest.raises(ValueError, match="only an identifier"):
        col(pl.Utf8, "operational", "x", key=Key("x_key", "DOCUMENT"))

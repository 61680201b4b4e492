"""Privacy by construction: the one step between validation and any agency SQL.

Each validated level is projected by its contract's metadata alone, into a temporary table
``p_<level>`` that the agency transform reads:

* operational and quasi-identifying columns pass as they are;
* an identifier with a ``Key`` becomes that pseudonym (keyed HMAC, with its issuer);
* the identifiers of the level's ``Person`` become ``person_key`` (surname + first given name +
  date of birth), ``birth_year`` (the date of birth generalized) and ``name_mixed_script``;
* every identifier leaves only ``has_<column>`` (whether a value was sent), free text nothing.

The raw frames are never registered under a name a transform could read, so agency SQL that
selects a raw column fails at once ("column not found"). A new identifier column added to a
contract with a ``Key`` comes out pseudonymized without touching any SQL.
"""
from __future__ import annotations

import duckdb
import polars as pl
import pyarrow as pa

from foundation.sqltext import identifier as _q
from contracts.base import FREE_TEXT, IDENTIFIER, Contract, Person, privacy_of
from contracts.readers import PARENT, ROW

#: SQL of a pseudonym, by domain: (issuer expression, value column) -> expression (foundation/privacy.py macros)
KEY_SQL = {
    "DOCUMENT": "ibet_document({issuer}, {value})",
    "PLATE": "ibet_plate({issuer}, {value})",
    "ANUMBER": "ibet_hmac('ANUMBER', ibet_norm({value}))",
    "VESSEL": "ibet_hmac('VESSEL', ibet_norm({value}))",
}
_NAME_SPLIT = {"last_first": ("ibet_surname_last_first", "ibet_given_last_first"),
               "either": ("ibet_surname", "ibet_given")}


def _person_sql(person: Person) -> list[str]:
    if person.name:
        surname_fn, given_fn = _NAME_SPLIT[person.name_format]
        surname, given = f"{surname_fn}({_q(person.name)})", f"{given_fn}({_q(person.name)})"
        shown = _q(person.name)
    else:
        surname, given = _q(person.surname or ""), _q(person.given or "")
        shown = f"concat_ws(' ', {surname}, {given})"
    dob = f"CAST({_q(person.dob)} AS DATE)"
    return [f"ibet_person({surname}, {given}, {dob}) AS person_key", f"year({dob}) AS birth_year",
            f"ibet_mixed_script({shown}) AS name_mixed_script"]


def projection_sql(contract: Contract, level: str, relation: str, columns: list[str]) -> str:
    """The SELECT that projects ``relation`` (the validated frame of ``level``, with ``columns``)."""
    select = []
    for name, cls in privacy_of(contract.levels[level]).items():
        if name not in columns:
            continue
        if cls == IDENTIFIER:
            select.append(f"({_q(name)} IS NOT NULL) AS {_q('has_' + name)}")
        elif cls != FREE_TEXT:
            select.append(_q(name))
    for name, c in contract.levels[level].columns.items():
        key = (c.metadata or {}).get("key")
        if key is not None and name in columns:
            issuer = _q(key.issuer) if key.issuer else "NULL"
            select.append(f"{KEY_SQL[key.domain].format(issuer=issuer, value=_q(name))} AS {_q(key.column)}")
    person = contract.persons.get(level)
    if person is not None:
        select += _person_sql(person)
    select += [_q(c) for c in ("_pos", ROW, PARENT) if c in columns]
    return f"SELECT {', '.join(select)} FROM {relation}"


def project(con: duckdb.DuckDBPyConnection, contract: Contract, valid: dict[str, pl.DataFrame]) -> None:
    """Create ``p_<level>`` for every validated level; the raw frames are gone once this returns."""
    for level, df in valid.items():
        # in chunks: DuckDB scans an Arrow table chunk by chunk, one thread per chunk (the keyed hashes are the
        # costly part of ingest, and a frame of one chunk would run them on one core)
        table = df.to_arrow()
        con.register("_ibet_raw", pa.Table.from_batches(table.to_batches(max_chunksize=8192), table.schema))
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE p_{level} AS "
                        + projection_sql(contract, level, "_ibet_raw", df.columns))
        finally:
            con.unregister("_ibet_raw")

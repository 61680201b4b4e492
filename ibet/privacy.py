"""Keyed pseudonyms computed inside DuckDB, so that no Python loop touches a row.

HMAC-SHA256(K, m) = H((K xor opad) || H((K xor ipad) || m)); DuckDB's ``sha256`` over
BLOBs gives exactly that, vectorized (tests compare with Python's ``hmac``). Each
pseudonym is computed over a *domain* and a normalized value (upper case, accents
folded, everything but A-Z and 0-9 removed) so that one person reported by RCMP
(``Gagné, Hélène``) and by CBP (``GAGNE, HELENE``) gets one key.
"""
from __future__ import annotations

import duckdb

#: The pseudonym domains; the domain is part of the HMAC message, so a plate and a
#: passport with the same characters never collide.
DOMAINS = ("PERSON", "DOCUMENT", "ANUMBER", "PLATE", "VESSEL")


def _pads(key: bytes) -> tuple[str, str]:
    import hashlib

    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    k = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in k).hex(), bytes(b ^ 0x5C for b in k).hex()


def install_macros(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Define ``ibet_norm(x)``, ``ibet_hmac(domain, x)`` and ``ibet_person(surname, given, dob)``.

    The key material lives only in this connection's catalog (temporary macros); it is
    never written to a file and never logged.
    """
    ipad, opad = _pads(key)
    con.execute(
        "CREATE OR REPLACE TEMP MACRO ibet_norm(x) AS "
        "nullif(regexp_replace(upper(strip_accents(CAST(x AS VARCHAR))), '[^A-Z0-9]', '', 'g'), '')"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO ibet_hmac(domain, x) AS CASE WHEN x IS NULL THEN NULL ELSE "
        f"sha256(unhex('{opad}') || unhex(sha256(unhex('{ipad}') || encode(domain || '|' || x)))) END"
    )
    # A person: surname + first given name + date of birth (DOMAIN.md).
    con.execute(
        "CREATE OR REPLACE TEMP MACRO ibet_person(surname, given, dob) AS "
        "ibet_hmac('PERSON', ibet_norm(surname) || '|' || "
        "ibet_norm(split_part(trim(CAST(given AS VARCHAR)), ' ', 1)) || '|' || strftime(CAST(dob AS DATE), '%Y-%m-%d'))"
    )


def connect(key: bytes) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the pseudonym macros installed."""
    con = duckdb.connect()
    install_macros(con, key)
    return con

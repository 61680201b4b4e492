"""Keyed pseudonyms computed inside DuckDB, so that no Python loop touches a row.

HMAC-SHA256(K, m) = H((K xor opad) || H((K xor ipad) || m)); DuckDB's ``sha256`` over
BLOBs gives exactly that, vectorized (tests compare with Python's ``hmac``). Each
pseudonym is computed over a *domain* and a normalized value, so that one person reported
by RCMP (``Weiß, Hélène``) and by CBP (``WEISS, HELENE``) gets one key, and two different
people never do.

Normalization (``ibet_norm``), in order:

1. NFC, then each character folded to the Latin letters other agencies' systems write for it:
   ``anyascii`` transliteration (ß→SS, Æ→AE, Œ→OE, Ø→O, Ł→L, Đ→D, Þ→TH, Иванов→IVANOV), with
   accents dropped. In a value that mixes Latin letters with Cyrillic or Greek ones, those
   letters are folded to their Latin look-alike instead (Unicode UTS #39 confusables: Cyrillic
   ``а``/``е``/``р`` → ``a``/``e``/``p``), and the record is flagged (``ibet_mixed_script``).
2. Upper case; everything but A-Z and 0-9 removed (spaces, hyphens, apostrophes, dots).

The character table is computed once per connection in Python over a fixed set of
characters (Latin, Greek, Cyrillic, punctuation and compatibility forms), never per row.
Documents and plates are keyed with their issuer or jurisdiction (a Canadian and a US
passport with the same number are two documents); a person by surname + first given name
+ date of birth, hyphens and spaces inside names treated alike.
"""
from __future__ import annotations

import hashlib
import unicodedata
from functools import lru_cache

import duckdb

from foundation import duck
from foundation.sqltext import literal

#: Surname particles kept with the surname when a name is written "FIRST ... LAST".
PARTICLES = ("de", "del", "della", "di", "da", "das", "do", "dos", "du", "des", "la", "le", "van", "von", "der",
             "den", "ter", "st", "ste", "saint", "sainte", "bin", "ibn", "al", "el", "mac")
#: Character ranges whose folding is tabulated (beyond them a character is dropped by step 2).
_RANGES = ((0x00A0, 0x024F), (0x0250, 0x02AF), (0x0300, 0x036F), (0x0370, 0x03FF), (0x0400, 0x052F),
           (0x1E00, 0x1EFF), (0x2000, 0x206F), (0xFB00, 0xFB06), (0xFF00, 0xFFEF))


def _pads(key: bytes) -> tuple[str, str]:
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    k = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in k).hex(), bytes(b ^ 0x5C for b in k).hex()


@lru_cache(maxsize=1)
def char_tables() -> tuple[dict[str, str], dict[str, str]]:
    """(transliteration, Latin look-alike) for every tabulated non-ASCII character."""
    from anyascii import anyascii
    from confusable_homoglyphs import categories, confusables

    translit: dict[str, str] = {}
    skeleton: dict[str, str] = {}
    for lo, hi in _RANGES:
        for code in range(lo, hi + 1):
            c = chr(code)
            if unicodedata.category(c) in ("Cn", "Cs", "Co"):
                continue
            translit[c] = anyascii(unicodedata.normalize("NFKC", c))
            if categories.alias(c) in ("CYRILLIC", "GREEK"):
                found = confusables.is_confusable(c, preferred_aliases=["latin"], greedy=True) or []
                latin = [h["c"] for f in found for h in f["homoglyphs"] if h["c"].isascii() and h["c"].isalpha()]
                if latin:
                    skeleton[c] = latin[0]
    return translit, skeleton


@lru_cache(maxsize=1)
def accent_folds() -> frozenset[str]:
    """The tabulated characters DuckDB's ``strip_accents`` folds exactly as the table does (checked on
    DuckDB itself, so a library upgrade that changes it narrows this set instead of changing a pseudonym)."""
    translit, _ = char_tables()
    with duckdb.connect() as con:
        rows = con.execute("SELECT c, strip_accents(c) FROM unnest(?::VARCHAR[]) t(c)", [sorted(translit)]).fetchall()
    return frozenset(c for c, stripped in rows if stripped == translit[c])


def _char_class(chars: frozenset[str]) -> str:
    """An RE2 character class of ASCII and ``chars``, as ranges of code points."""
    points = sorted({*range(0x80), *map(ord, chars)})
    ranges, lo = [], points[0]
    for prev, cp in zip(points, points[1:] + [-1]):
        if cp != prev + 1:
            ranges.append((lo, prev))
            lo = cp
    return "[" + "".join(f"\\x{{{a:04X}}}" + (f"-\\x{{{b:04X}}}" if b > a else "") for a, b in ranges) + "]"


def _offsets() -> list[tuple[tuple[int, int], int]]:
    """Each tabulated range with the position of its first character in the tables' lists."""
    out, start = [], 0
    for lo, hi in _RANGES:
        out.append(((lo, hi), start))
        start += hi - lo + 1
    return out


def _list_literal(table: dict[str, str]) -> str:
    """The table as a list indexed by ``ibet_char_slot`` (NULL where a character has no entry)."""
    def q(c: str) -> str:
        return "NULL" if c not in table else literal(table[c])
    return "[" + ", ".join(q(chr(cp)) for lo, hi in _RANGES for cp in range(lo, hi + 1)) + "]::VARCHAR[]"


def install_macros(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Define the normalization, name-splitting and pseudonym macros on ``con``.

    The key material lives only in this connection's catalog (temporary macros); it is
    never written to a file and never logged.
    """
    ipad, opad = _pads(key)
    translit, skeleton = char_tables()
    con.execute(f"SET VARIABLE ibet_translit = {_list_literal(translit)}")
    con.execute(f"SET VARIABLE ibet_skeleton = {_list_literal(skeleton)}")
    con.execute("CREATE OR REPLACE TEMP MACRO ibet_mixed_script(x) AS "
                "regexp_matches(x, '\\p{Latin}') AND regexp_matches(x, '[\\p{Cyrillic}\\p{Greek}]')")
    # Folding looks each character up by its code point (a list index, not a search of the table), and
    # ASCII text (as many bytes as characters) skips it: the tables hold no ASCII character.
    index = " ".join(f"WHEN cp BETWEEN {lo} AND {hi} THEN cp - {lo - start - 1}" for (lo, hi), start in _offsets())
    con.execute(f"CREATE OR REPLACE TEMP MACRO ibet_char_slot(cp) AS CASE {index} END")

    def lookup(tables: str) -> str:
        return ("array_to_string(list_transform(string_split(nfc_normalize(v), ''), lambda ch: "
                f"coalesce({tables}, ch)), '')")
    translit_at = "getvariable('ibet_translit')[ibet_char_slot(unicode(ch))]"
    skeleton_at = "getvariable('ibet_skeleton')[ibet_char_slot(unicode(ch))]"
    # Text whose every character is ASCII or folds as DuckDB's strip_accents folds it (most accented Latin
    # names: é -> e) is folded by strip_accents in one pass; the lookup is left for the rest (ß, Ø, Cyrillic).
    # A macro's argument is pasted wherever it is used: the value is bound once to a lambda's parameter ``v``
    # (a one-element list) so that a name's whole expression is neither bound nor computed six times over,
    # which cost a tenth of a second of planning per batch of an ingest.
    con.execute(
        "CREATE OR REPLACE TEMP MACRO ibet_fold(x) AS list_transform([CAST(x AS VARCHAR)], lambda v: CASE "
        "WHEN v IS NULL THEN NULL WHEN strlen(v) = length(v) THEN v "
        f"WHEN ibet_mixed_script(v) THEN {lookup(skeleton_at + ', ' + translit_at)} "
        f"WHEN regexp_full_match(nfc_normalize(v), '{_char_class(accent_folds())}*') "
        "THEN strip_accents(nfc_normalize(v)) "
        f"ELSE {lookup(translit_at)} END)[1]")
    # '' (nothing left) is NULL, without ``nullif``, which would paste the whole fold twice
    con.execute("CREATE OR REPLACE TEMP MACRO ibet_norm(x) AS "
                "list_filter([regexp_replace(upper(ibet_fold(x)), '[^A-Z0-9]', '', 'g')], lambda n: n <> '')[1]")
    # NULL in, NULL out, with no CASE: a CASE would repeat ``x`` (a macro's argument is pasted where it is
    # used), and ``x`` is the whole normalization of a name, a document or a plate
    con.execute(
        "CREATE OR REPLACE TEMP MACRO ibet_hmac(domain, x) AS "
        f"sha256(unhex('{opad}') || unhex(sha256(unhex('{ipad}') || encode(domain || '|' || x))))")
    # A person: surname + first given name + date of birth (DOMAIN.md); "Jean-Pierre" = "Jean Pierre".
    con.execute(
        "CREATE OR REPLACE TEMP MACRO ibet_person(surname, given, dob) AS "
        "ibet_hmac('PERSON', ibet_norm(surname) || '|' || "
        "ibet_norm(split_part(trim(regexp_replace(CAST(given AS VARCHAR), '[-‐‑–]', ' ', 'g')), ' ', 1)) || '|' || "
        "strftime(CAST(dob AS DATE), '%Y-%m-%d'))")
    # Documents and plates are keyed with who issued them (UNK when the format does not say). A number that
    # normalizes to nothing has no pseudonym: ``||`` with NULL is NULL, and ibet_hmac(NULL) is NULL (one
    # ibet_norm of the number, not a second one in a CASE: the normalization is most of a pseudonym's cost).
    con.execute("CREATE OR REPLACE TEMP MACRO ibet_document(issuer, number) AS "
                "ibet_hmac('DOCUMENT', coalesce(ibet_norm(issuer), 'UNK') || '|' || ibet_norm(number))")
    con.execute("CREATE OR REPLACE TEMP MACRO ibet_plate(jurisdiction, plate) AS "
                "ibet_hmac('PLATE', coalesce(ibet_norm(jurisdiction), 'UNK') || '|' || ibet_norm(plate))")
    particles = "|".join(PARTICLES)
    # "LAST, FIRST MIDDLE" (CBP's format): the surname comes first, with or without the comma.
    con.execute("CREATE OR REPLACE TEMP MACRO ibet_surname_last_first(n) AS CASE WHEN contains(n, ',') "
                "THEN trim(split_part(n, ',', 1)) ELSE split_part(trim(n), ' ', 1) END")
    con.execute("CREATE OR REPLACE TEMP MACRO ibet_given_last_first(n) AS CASE WHEN contains(n, ',') "
                "THEN trim(split_part(n, ',', 2)) ELSE trim(regexp_extract(trim(n), '^\\S+\\s+(.*)$', 1)) END")
    # A name whose format is not fixed: "LAST, FIRST" when there is a comma, else "FIRST ... LAST"
    # where the surname keeps its particles ("Maria De La Cruz" -> "De La Cruz").
    tail = f"((?:(?:{particles})\\.?\\s+)*\\S+)$"
    con.execute("CREATE OR REPLACE TEMP MACRO ibet_surname(n) AS CASE WHEN contains(n, ',') "
                f"THEN trim(split_part(n, ',', 1)) ELSE regexp_extract(trim(n), '(?i)\\s{tail}', 1) END")
    con.execute("CREATE OR REPLACE TEMP MACRO ibet_given(n) AS CASE WHEN contains(n, ',') "
                "THEN trim(split_part(n, ',', 2)) ELSE split_part(trim(n), ' ', 1) END")


def connect(key: bytes) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the pseudonym macros installed."""
    con = duck.connect()
    install_macros(con, key)
    return con

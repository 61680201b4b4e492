"""Building blocks of the contracts: privacy classes, column helpers and vectorized checks.

Every check is a polars expression (no Python function per value), written so that a
null passes (nullability is the column's own ``nullable`` rule) and a value that does
not parse fails with a named reason.
"""
from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from typing import Callable

from contracts.pandera_polars import pa
import polars as pl

#: The privacy classes of DOMAIN.md.
IDENTIFIER = "identifier"
QUASI = "quasi"
FREE_TEXT = "free_text"
OPERATIONAL = "operational"
PRIVACY_CLASSES = (IDENTIFIER, QUASI, FREE_TEXT, OPERATIONAL)


IANA_ZONES = sorted(zoneinfo.available_timezones())
ALPHA3 = r"^[A-Z]{3}$"
#: Every operational text column has a shape: these keep a narrative, a name with a date, or a
#: document number out of columns that carry codes and place names.
#: An identifier or reference code: upper-case letters, digits and dashes, 1 to 32 characters.
CODE = r"^[A-Z0-9][A-Z0-9-]{0,31}$"
#: A place or unit name: letters (accented too), dots, apostrophes, dashes; at most 4 words, 40 characters.
PLACE_NAME = r"^(?:[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ.'-]*)(?: [A-Za-zÀ-ÿ][A-Za-zÀ-ÿ.'-]*){0,3}$"
#: Text that looks like a person's data wherever it sits: a date (of birth), a document or A-number, a
#: narrative of six words or more. The quarantine never keeps such a value, and the quality gate blocks
#: it in any operational column of a published fact or mart.
PERSONAL_TEXT = (r"\b(19|20)\d\d-\d\d-\d\d\b|\b\d\d[/.]\d\d[/.](19|20)\d\d\b"
                 r"|\b[A-Z]{2}\d{6,9}\b|\b[A-Za-z]{2}[ -]\d{6}\b|\b[Aa]-?\d{8,9}\b|^\S+(\s+\S+){5,}")
#: A failing code is kept in the quarantine (it helps the agency) only when it looks like a code.
CODE_LIKE = r"^[A-Za-z0-9_./-]{1,32}$"
#: A vessel name: letters, digits and a little punctuation; at most 5 words.
VESSEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9.'&-]*(?: [A-Za-z0-9][A-Za-z0-9.'&-]*){0,4}$"



def _check(fn: Callable[[pl.Expr], pl.Expr], name: str, error: str) -> pa.Check:
    """A pandera check from a polars expression builder; nulls always pass."""

    def run(data: pa.PolarsData) -> pl.LazyFrame:
        c = pl.col(data.key)
        return data.lazyframe.select(c.is_null() | fn(c).fill_null(False))

    return pa.Check(run, name=name, error=error)


def whole_when(column: str, codes: tuple[str, ...]) -> pa.Check:
    """A count of items (``column`` in ``codes``: units, NMB) is a whole number: 2.5 firearms is an error."""
    def ok(c: pl.Expr) -> pl.Expr:
        v = c.cast(pl.Float64, strict=False)
        return ~pl.col(column).is_in(list(codes)) | (v == v.round(0))
    return _check(ok, "whole_count", f"not a whole number of items (when {column} is {' or '.join(codes)})")


def max_length(n: int) -> pa.Check:
    return _check(lambda c: c.str.len_chars() <= n, "max_length", f"longer than {n} characters")


@dataclass(frozen=True)
class Parse:
    """How a text column is read: one polars expression that gives the typed value, or null.

    The contract's check is "null, or parses (and is in range)", and after validation the
    valid rows carry the parsed value, so the transforms use exactly the value the contract
    accepted and never parse text a second time with another engine's rules.
    """

    name: str
    dtype: object
    parse: Callable[[pl.Expr], pl.Expr]
    error: str
    valid: Callable[[pl.Expr], pl.Expr] = lambda v: v.is_not_null()  # noqa: E731

    @property
    def check(self) -> pa.Check:
        return _check(lambda c: self.valid(self.parse(c)), self.name, self.error)


def parses_datetime(fmt: str) -> Parse:
    """A local wall time (no zone) in ``fmt``."""
    return Parse("parses_datetime", pl.Datetime("us"), lambda c: c.str.strptime(pl.Datetime("us"), fmt, strict=False),
                 f"not a date-time in format {fmt}")


def parses_date(fmt: str, lo: str = "1900-01-01", hi: str = "2100-12-31") -> Parse:
    import datetime as dt

    a, b = dt.date.fromisoformat(lo), dt.date.fromisoformat(hi)
    return Parse("parses_date", pl.Date, lambda c: c.str.strptime(pl.Date, fmt, strict=False),
                 f"not a date in format {fmt} between {lo} and {hi}", lambda v: v.is_between(a, b))


def number_between(lo: float, hi: float) -> Parse:
    return Parse("number_between", pl.Float64, lambda c: c.cast(pl.Float64, strict=False),
                 f"not a number between {lo} and {hi}", lambda v: v.is_between(lo, hi))


def whole_number_between(lo: int, hi: int) -> Parse:
    return Parse("whole_number_between", pl.Int64, lambda c: c.cast(pl.Int64, strict=False),
                 f"not a whole number between {lo} and {hi}", lambda v: v.is_between(lo, hi))


def iso8601_with_offset() -> Parse:
    return Parse("iso8601_with_offset", pl.Datetime("us", "UTC"),
                 lambda c: c.str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%z", strict=False),
                 "not an ISO 8601 date-time with a UTC offset")


def dtg_zulu() -> Parse:
    """A military date-time group ``ddhhmmZ MON yy`` (UTC)."""
    return Parse("dtg", pl.Datetime("us", "UTC"),
                 lambda c: c.str.strptime(pl.Datetime("us", "UTC"), "%d%H%MZ %b %y", strict=False),
                 "not a date-time group ddhhmmZ MON yy")


def _signed(c: pl.Expr, degrees: pl.Expr, hemisphere_group: int, pattern: str, negative: str) -> pl.Expr:
    return pl.when(c.str.extract(pattern, hemisphere_group) == negative).then(-degrees).otherwise(degrees)


def dms(hemispheres: str, max_degrees: int) -> Parse:
    """Degrees-minutes-seconds like ``48°59'30"N``, to signed decimal degrees within range."""
    pattern = rf"^(\d{{1,3}})°(\d{{1,2}})'(\d{{1,2}}(?:\.\d+)?)\"([{hemispheres}])$"
    negative = "S" if "S" in hemispheres else "W"

    def parse(c: pl.Expr) -> pl.Expr:
        deg = c.str.extract(pattern, 1).cast(pl.Float64, strict=False)
        mins = c.str.extract(pattern, 2).cast(pl.Float64, strict=False)
        secs = c.str.extract(pattern, 3).cast(pl.Float64, strict=False)
        ok = (mins < 60) & (secs < 60)
        value = pl.when(ok).then(deg + mins / 60 + secs / 3600)
        return _signed(c, value, 4, pattern, negative)

    return Parse("dms_coordinate", pl.Float64, parse,
                 f"not a D°M'S\" coordinate ({hemispheres}) within {max_degrees} degrees",
                 lambda v: v.abs() <= max_degrees)


def degrees_decimal_minutes(hemispheres: str, max_degrees: int) -> Parse:
    """Degrees and decimal minutes like ``48 22.5N``, to signed decimal degrees within range."""
    pattern = rf"^(\d{{1,3}}) (\d{{1,2}}(?:\.\d+)?)([{hemispheres}])$"
    negative = "S" if "S" in hemispheres else "W"

    def parse(c: pl.Expr) -> pl.Expr:
        deg = c.str.extract(pattern, 1).cast(pl.Float64, strict=False)
        mins = c.str.extract(pattern, 2).cast(pl.Float64, strict=False)
        return _signed(c, pl.when(mins < 60).then(deg + mins / 60), 3, pattern, negative)

    return Parse("ddm_coordinate", pl.Float64, parse,
                 f"not a degrees-decimal-minutes coordinate within {max_degrees} degrees",
                 lambda v: v.abs() <= max_degrees)


def boolean_words(true: tuple[str, ...], false: tuple[str, ...]) -> Parse:
    """A yes/no code (``Y``/``N``, ``true``/``false``...) to a boolean."""
    return Parse("boolean", pl.Boolean, lambda c: pl.when(c.is_in(list(true))).then(True)
                 .when(c.is_in(list(false))).then(False),
                 f"not one of {', '.join(true + false)}")


@dataclass(frozen=True)
class Key:
    """An identifier column's treatment: replaced by a keyed pseudonym of ``domain`` in ``column``.

    ``issuer`` names the column saying who issued the identifier (a document's country, a
    plate's jurisdiction): the same number from two issuers is two keys. ``None``: unknown."""

    column: str  #: the pseudonym column the projection writes (e.g. ``plate_key``)
    domain: str  #: DOCUMENT, PLATE, ANUMBER or VESSEL (part of the HMAC message)
    issuer: str | None = None


@dataclass(frozen=True)
class Person:
    """The person of a record level, keyed as surname + first given name + date of birth (DOMAIN.md).

    Either ``surname`` and ``given`` columns, or one ``name`` column in the agency's format:
    ``last_first`` ("LAST, FIRST MIDDLE", CBP) or ``either`` ("LAST, FIRST" or "FIRST ... LAST").
    The date of birth survives as ``birth_year`` only (generalization)."""

    dob: str
    surname: str | None = None
    given: str | None = None
    name: str | None = None
    name_format: str = "either"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for c in (self.surname, self.given, self.name, self.dob) if c)


def col(dtype: object, privacy: str, description: str, *, nullable: bool = True,
        checks: list[pa.Check | Parse] | None = None, unique: bool = False, isin: list[str] | None = None,
        regex: str | None = None, key: Key | None = None) -> pa.Column:
    """A contract column; ``privacy`` is mandatory and stored as column metadata.

    An identifier survives only as what its treatment makes of it: a ``key`` (pseudonym) or
    its part in the level's ``Person``; free text not at all (``contracts/projection.py``).
    A ``Parse`` among the checks makes the column typed after validation (metadata ``parse``).
    """
    if privacy not in PRIVACY_CLASSES:
        raise ValueError(f"unknown privacy class {privacy!r}")
    parses = [c for c in checks or [] if isinstance(c, Parse)]
    cks = [c.check if isinstance(c, Parse) else c for c in checks or []]
    if isin is not None:
        shown = ", ".join(isin) if len(isin) <= 12 else f"the {len(isin)} allowed values ({', '.join(isin[:4])}, ...)"
        cks.append(pa.Check.isin(isin, error=f"not one of {shown}"))
    if regex is not None:
        cks.append(pa.Check.str_matches(regex, error=f"does not match {regex}"))
    meta: dict[str, object] = {"privacy": privacy}
    if key is not None:
        if privacy != IDENTIFIER:
            raise ValueError(f"only an identifier column is pseudonymized (a {privacy} column has no key)")
        meta["key"] = key
    if parses:
        meta["parse"] = parses[0]
    if isin is not None:
        meta["enumerated"] = True
    return pa.Column(dtype, checks=cks, nullable=nullable, unique=unique, description=description,
                     metadata=meta, required=True)


@dataclass(frozen=True)
class Contract:
    """The contract of one extract: a schema per record level, the first being the top."""

    source: str
    levels: dict[str, pa.DataFrameSchema]
    id_column: str  #: operational source id of the top level (quarantine shows it)
    parents: dict[str, str] = field(default_factory=dict)  #: child level -> parent level
    persons: dict[str, Person] = field(default_factory=dict)  #: level -> the person its identifiers describe

    def derived(self, level: str) -> dict[str, str]:
        """Identifier column -> what survives of it (docs): its key, person_key, birth_year."""
        out: dict[str, list[str]] = {}
        for name, c in self.levels[level].columns.items():
            k = (c.metadata or {}).get("key")
            if k is not None:
                out.setdefault(name, []).append(k.column)
        person = self.persons.get(level)
        if person is not None:
            for name in person.columns:
                out.setdefault(name, []).append("person_key")
            out.setdefault(person.dob, []).append("birth_year")
        return {n: ", ".join(v) for n, v in out.items()}

    @property
    def top(self) -> str:
        return next(iter(self.levels))


def schema(name: str, columns: dict[str, pa.Column], description: str) -> pa.DataFrameSchema:
    # strict=False: a partner may add columns; they are dropped, never carried downstream.
    return pa.DataFrameSchema(columns, name=name, description=description, strict=False, coerce=False)


def privacy_of(sch: pa.DataFrameSchema) -> dict[str, str]:
    """Column name -> privacy class (KeyError-free: a missing class shows as ``None``)."""
    return {n: (c.metadata or {}).get("privacy") for n, c in sch.columns.items()}


def parsers(sch: pa.DataFrameSchema) -> dict[str, Parse]:
    """Column name -> how it is parsed, for the columns that are (the others stay as they are)."""
    return {n: c.metadata["parse"] for n, c in sch.columns.items() if isinstance((c.metadata or {}).get("parse"), Parse)}


def describe_markdown(contract: Contract) -> str:
    """The contract as Markdown tables (used in DAG docs and the README)."""
    out = []
    for level, sch in contract.levels.items():
        out.append(f"**{level}**\n\n| column | type | privacy | nullable | rule |\n|---|---|---|---|---|")
        for n, c in sch.columns.items():
            meta = c.metadata or {}
            rules = "; ".join(ck.error or ck.name or "" for ck in c.checks)
            if c.unique:
                rules = (rules + "; unique").lstrip("; ")
            derived = contract.derived(level).get(n)
            priv = meta.get("privacy", "?") + (f" → {derived}" if derived else "")
            out.append(f"| {n} | {c.dtype} | {priv} | {'yes' if c.nullable else 'no'} | {rules.replace('|', '/')} |")
        out.append("")
    return "\n".join(out)

"""Building blocks of the contracts: privacy classes, column helpers and vectorized checks.

Every check is a polars expression (no Python function per value), written so that a
null passes (nullability is the column's own ``nullable`` rule) and a value that does
not parse fails with a named reason.
"""
from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from typing import Callable

import pandera.polars as pa
import polars as pl

#: The privacy classes of DOMAIN.md.
IDENTIFIER = "identifier"
QUASI = "quasi"
FREE_TEXT = "free_text"
OPERATIONAL = "operational"
PRIVACY_CLASSES = (IDENTIFIER, QUASI, FREE_TEXT, OPERATIONAL)

#: Classes whose raw values must never leave validation (nor appear in a quarantine file).
SENSITIVE = (IDENTIFIER, QUASI, FREE_TEXT)

IANA_ZONES = sorted(zoneinfo.available_timezones())
ALPHA3 = r"^[A-Z]{3}$"


def _check(fn: Callable[[pl.Expr], pl.Expr], name: str, error: str) -> pa.Check:
    """A pandera check from a polars expression builder; nulls always pass."""

    def run(data: pa.PolarsData) -> pl.LazyFrame:
        c = pl.col(data.key)
        return data.lazyframe.select(c.is_null() | fn(c).fill_null(False))

    return pa.Check(run, name=name, error=error)


def parses_datetime(fmt: str) -> pa.Check:
    return _check(lambda c: c.str.strptime(pl.Datetime, fmt, strict=False).is_not_null(),
                  "parses_datetime", f"not a date-time in format {fmt}")


def parses_date(fmt: str, lo: str = "1900-01-01", hi: str = "2100-12-31") -> pa.Check:
    import datetime as dt

    a, b = dt.date.fromisoformat(lo), dt.date.fromisoformat(hi)
    return _check(lambda c: c.str.strptime(pl.Date, fmt, strict=False).is_between(a, b),
                  "parses_date", f"not a date in format {fmt} between {lo} and {hi}")


def number_between(lo: float, hi: float) -> pa.Check:
    return _check(lambda c: c.cast(pl.Float64, strict=False).is_between(lo, hi),
                  "number_between", f"not a number between {lo} and {hi}")


def whole_number_between(lo: int, hi: int) -> pa.Check:
    return _check(lambda c: c.cast(pl.Int64, strict=False).is_between(lo, hi),
                  "whole_number_between", f"not a whole number between {lo} and {hi}")


def iso8601_with_offset() -> pa.Check:
    return _check(lambda c: c.str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%z", strict=False).is_not_null(),
                  "iso8601_with_offset", "not an ISO 8601 date-time with a UTC offset")


def dms(hemispheres: str, max_degrees: int) -> pa.Check:
    """Degrees-minutes-seconds like ``48°59'30"N`` within range."""
    pattern = rf"^(\d{{1,3}})°(\d{{1,2}})'(\d{{1,2}}(?:\.\d+)?)\"[{hemispheres}]$"

    def ok(c: pl.Expr) -> pl.Expr:
        deg = c.str.extract(pattern, 1).cast(pl.Int64, strict=False)
        mins = c.str.extract(pattern, 2).cast(pl.Int64, strict=False)
        secs = c.str.extract(pattern, 3).cast(pl.Float64, strict=False)
        return (deg + mins / 60 + secs / 3600 <= max_degrees) & (mins < 60) & (secs < 60)

    return _check(ok, "dms_coordinate", f"not a D°M'S\" coordinate ({hemispheres}) within {max_degrees} degrees")


def degrees_decimal_minutes(hemispheres: str, max_degrees: int) -> pa.Check:
    """Degrees and decimal minutes like ``48 22.5N`` within range."""
    pattern = rf"^(\d{{1,3}}) (\d{{1,2}}(?:\.\d+)?)([{hemispheres}])$"

    def ok(c: pl.Expr) -> pl.Expr:
        deg = c.str.extract(pattern, 1).cast(pl.Int64, strict=False)
        mins = c.str.extract(pattern, 2).cast(pl.Float64, strict=False)
        return (deg + mins / 60 <= max_degrees) & (mins < 60)

    return _check(ok, "ddm_coordinate", f"not a degrees-decimal-minutes coordinate within {max_degrees} degrees")


def col(dtype: object, privacy: str, description: str, *, nullable: bool = True,
        checks: list[pa.Check] | None = None, unique: bool = False, isin: list[str] | None = None,
        regex: str | None = None, derived: str | None = None) -> pa.Column:
    """A contract column; ``privacy`` is mandatory and stored as column metadata.

    ``derived`` says what survives of a sensitive column (e.g. ``person_key``,
    ``birth_year``); nothing else of it passes validation.
    """
    if privacy not in PRIVACY_CLASSES:
        raise ValueError(f"unknown privacy class {privacy!r}")
    cks = list(checks or [])
    if isin is not None:
        shown = ", ".join(isin) if len(isin) <= 12 else f"the {len(isin)} allowed values ({', '.join(isin[:4])}, ...)"
        cks.append(pa.Check.isin(isin, error=f"not one of {shown}"))
    if regex is not None:
        cks.append(pa.Check.str_matches(regex, error=f"does not match {regex}"))
    meta = {"privacy": privacy}
    if derived:
        meta["derived"] = derived
    return pa.Column(dtype, checks=cks, nullable=nullable, unique=unique, description=description,
                     metadata=meta, required=True)


@dataclass(frozen=True)
class Contract:
    """The contract of one extract: a schema per record level, the first being the top."""

    source: str
    levels: dict[str, pa.DataFrameSchema]
    id_column: str  #: operational source id of the top level (quarantine shows it)
    parents: dict[str, str] = field(default_factory=dict)  #: child level -> parent level

    @property
    def top(self) -> str:
        return next(iter(self.levels))


def schema(name: str, columns: dict[str, pa.Column], description: str) -> pa.DataFrameSchema:
    # strict=False: a partner may add columns; they are dropped, never carried downstream.
    return pa.DataFrameSchema(columns, name=name, description=description, strict=False, coerce=False)


def privacy_of(sch: pa.DataFrameSchema) -> dict[str, str]:
    """Column name -> privacy class (KeyError-free: a missing class shows as ``None``)."""
    return {n: (c.metadata or {}).get("privacy") for n, c in sch.columns.items()}


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
            priv = meta.get("privacy", "?") + (f" → {meta['derived']}" if meta.get("derived") else "")
            out.append(f"| {n} | {c.dtype} | {priv} | {'yes' if c.nullable else 'no'} | {rules.replace('|', '/')} |")
        out.append("")
    return "\n".join(out)

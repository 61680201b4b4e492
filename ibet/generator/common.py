"""What every synthetic writer shares: column builders, caveats, people, narratives."""
from __future__ import annotations


import numpy as np
import polars as pl

from contracts import rcmp as rcmp_contract
from ibet.generator.core import DEFECT_KINDS, PERSONAL_DEFECT_KINDS, Day, subject_draw
from foundation.vocabulary import COMMODITY_CODES, ORCON, REL_IBET

#: Writers whose flat formats carry personal columns with a rule also corrupt those.
WITH_PERSONAL = DEFECT_KINDS + PERSONAL_DEFECT_KINDS

RCMP_TYPES = list(rcmp_contract.OCCURRENCE_TYPES)
COMMODITIES = list(COMMODITY_CODES)


def _str(name: str, values: object, dtype: object = None) -> pl.Series:
    """A Series from a numpy array (None stays null; text arrays become Utf8)."""
    if isinstance(values, np.ndarray):
        if dtype is None and values.dtype.kind in "OU":
            dtype = pl.Utf8
        values = values.tolist()
    return pl.Series(name, values, dtype=dtype)


def _choice(day: Day, values: list, p: list[float] | None = None) -> np.ndarray:
    return np.array(values)[day.rng.choice(len(values), day.n, p=p)]


def _caveats(day: Day, local: str) -> np.ndarray:
    return _choice(day, [REL_IBET, local, ORCON], [0.75, 0.18, 0.07])


def _people(day: Day, share: float) -> pl.DataFrame:
    """Per row: the person (or nulls) filling the subject slot."""
    ids = subject_draw(day, share)
    return pl.DataFrame({"person_id": ids}).join(day.pool, on="person_id", how="left", maintain_order="left")


def _narrative(who: pl.Expr, where: pl.Expr) -> pl.Expr:
    # Free text carries names and places, commas and line breaks: it must never reach the lake.
    return pl.format("Patrol observed {} near {}, subject questioned.\nFollow-up, see file.", who, where)


def _appearances(ids: pl.Series, person: pl.Series, bad: list[int], seq: int = 1) -> list[list]:
    ok = pl.DataFrame({"sid": ids, "pid": person}).with_row_index("i").filter(
        pl.col("pid").is_not_null() & ~pl.col("i").is_in(bad))
    return [[s, seq, int(p)] for s, p in zip(ok["sid"].to_list(), ok["pid"].to_list())]

"""Each registry source bound to its contract, reader and normalizer: objects, not module names.

The registry (``foundation/registry.py``, the foundation) says which files an agency sends; this
catalog says how each is read, validated and normalized. Ingest, the gate, the docs and the
lineage all look a source up here, so a source without a pipeline is an error at once, and a
test checks that the two lists match.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import duckdb
import polars as pl
import pyarrow as pa

from contracts import cbp as cbp_contract
from contracts import cbsa as cbsa_contract
from contracts import ice as ice_contract
from contracts import program as program_contract
from contracts import rcmp as rcmp_contract
from contracts import uscg as uscg_contract
from contracts.base import Contract
from contracts.readers import PARENT
from transforms import cbp, cbsa, ice, program, rcmp, uscg

#: a file -> its records in batches (per level; a child's ``_parent`` is its record's position in the batch)
Batches = Callable[[Path, int], Iterator[dict[str, pl.DataFrame]]]
Normalizer = Callable[[duckdb.DuckDBPyConnection, dict[str, str]], dict[str, pa.Table]]


@dataclass(frozen=True)
class Pipeline:
    """How one source's files become canonical tables."""

    source: str  #: the registry's source name
    contract: Contract
    batches: Batches
    canonical: Normalizer

    def read(self, path: Path) -> dict[str, pl.DataFrame]:
        """The whole file at once (small files, tests): its batches put together."""
        return combine(self.contract, self.batches(path, WHOLE))


#: the batch size of ``read`` (1 GiB: one batch for any file but the largest, which are combined all the same)
WHOLE = 1 << 30


def combine(contract: Contract, batches: Iterable[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    """Batches as one: each child's ``_parent`` shifted by the records of the batches before its own."""
    parts: dict[str, list[pl.DataFrame]] = {}
    before: dict[str, int] = {}
    for batch in batches:
        for level, df in batch.items():
            parent = contract.parents.get(level)
            if parent is not None and before.get(parent):
                df = df.with_columns(pl.col(PARENT) + before[parent])
            parts.setdefault(level, []).append(df)
        for level, df in batch.items():
            before[level] = before.get(level, 0) + df.height
    return {level: pl.concat(dfs) for level, dfs in parts.items()}


def _program(source: str, contract: Contract, canonical: Normalizer) -> Pipeline:
    return Pipeline(source, contract, program.reader(list(contract.levels["rows"].columns)), canonical)


PIPELINES: dict[str, Pipeline] = {p.source: p for p in (
    Pipeline("rcmp", rcmp_contract.CONTRACT, rcmp.batches, rcmp.canonical),
    Pipeline("cbsa", cbsa_contract.CONTRACT, cbsa.batches, cbsa.canonical),
    Pipeline("cbp", cbp_contract.CONTRACT, cbp.batches, cbp.canonical),
    Pipeline("ice", ice_contract.CONTRACT, ice.batches, ice.canonical),
    Pipeline("uscg", uscg_contract.CONTRACT, uscg.batches, uscg.canonical),
    _program("finance", program_contract.FINANCE, program.finance),
    _program("outreach", program_contract.OUTREACH, program.outreach),
    _program("radio_tests", program_contract.RADIO_TESTS, program.radio_tests),
)}


def pipeline(source: str) -> Pipeline:
    """The pipeline of a registry source (by its name)."""
    try:
        return PIPELINES[source]
    except KeyError:
        raise KeyError(f"no pipeline for source {source!r} in transforms/pipelines.py; known: "
                       f"{', '.join(PIPELINES)}") from None

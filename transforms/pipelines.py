"""Each registry source bound to its contract, reader and normalizer: objects, not module names.

The registry (``foundation/registry.py``, the foundation) says which files an agency sends; this
catalog says how each is read, validated and normalized. Ingest, the gate, the docs and the
lineage all look a source up here, so a source without a pipeline is an error at once, and a
test checks that the two lists match.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

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
from transforms import cbp, cbsa, ice, program, rcmp, uscg

Reader = Callable[[Path], dict[str, pl.DataFrame]]
Normalizer = Callable[[duckdb.DuckDBPyConnection, dict[str, str]], dict[str, pa.Table]]


@dataclass(frozen=True)
class Pipeline:
    """How one source's files become canonical tables."""

    source: str  #: the registry's source name
    contract: Contract
    read: Reader
    canonical: Normalizer


def _program(source: str, contract: Contract, canonical: Normalizer) -> Pipeline:
    return Pipeline(source, contract, program.reader(list(contract.levels["rows"].columns)), canonical)


PIPELINES: dict[str, Pipeline] = {p.source: p for p in (
    Pipeline("rcmp", rcmp_contract.CONTRACT, rcmp.read, rcmp.canonical),
    Pipeline("cbsa", cbsa_contract.CONTRACT, cbsa.read, cbsa.canonical),
    Pipeline("cbp", cbp_contract.CONTRACT, cbp.read, cbp.canonical),
    Pipeline("ice", ice_contract.CONTRACT, ice.read, ice.canonical),
    Pipeline("uscg", uscg_contract.CONTRACT, uscg.read, uscg.canonical),
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

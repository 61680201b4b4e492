"""Reference data (regions, reporting units) shipped with the product and editable.

The shipped copies live in ``foundation/data``; an operator may override either by placing a
file of the same name under ``IBET_HOME/reference`` (DOMAIN.md: regions are reference
data that can be edited, never hard-coded).
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import polars as pl

from foundation.settings import get_settings


def reference_path(name: str) -> Path:
    override = get_settings().reference / name
    if override.is_file():
        return override
    return Path(str(resources.files("foundation") / "data" / name))


@lru_cache(maxsize=None)
def _read(path: str) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=0)


def regions() -> pl.DataFrame:
    """The 15 IBET regions as boxes, with their order as tie-break priority."""
    df = _read(str(reference_path("regions.csv")))
    return df.with_columns(
        [pl.col(c).cast(pl.Float64) for c in ("min_lon", "max_lon", "min_lat", "max_lat")]
        + [pl.col("maritime") == "true", pl.int_range(pl.len()).alias("priority")]
    )


def region_codes() -> list[str]:
    return regions()["region_code"].to_list()


def program_reference() -> dict:
    """The program's published reference text (``program_reference.yml``): what the DPR table says in words."""
    import yaml

    return yaml.safe_load(reference_path("program_reference.yml").read_text())


def unit_regions() -> pl.DataFrame:
    """(agency, unit) -> region for units whose area lies in a single region."""
    return _read(str(reference_path("unit_regions.csv")))

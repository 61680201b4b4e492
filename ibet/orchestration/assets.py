"""The lake partitions as Airflow Assets: one per agency, updated by that agency's ingest DAG."""
from __future__ import annotations

from airflow.sdk import Asset

from foundation.registry import AGENCIES


def lake_asset(agency: str) -> Asset:
    """The asset an agency's ingest DAG emits when it lands an extract date in the lake."""
    return Asset(name=f"ibet_lake_{agency}", uri=f"x-ibet://lake/{agency}", group="ibet-lake")


#: agency code -> asset, in registry order
LAKE_ASSETS: dict[str, Asset] = {code: lake_asset(code) for code in AGENCIES}

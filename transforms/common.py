"""SQL shared by every agency's transform: regions, taxonomy, and the final cast.

Each agency module builds a SELECT per canonical table over the *valid* rows (views
``v_<level>`` with their ``_pos``); ``finalize`` casts it to the canonical schema and
orders it, so that the same input always gives the same bytes.
"""
from __future__ import annotations

import duckdb
import pyarrow as pa

from foundation import vocabulary
from foundation.reference import regions, unit_regions
from transforms.canonical import TABLES

def commodity_category(expr: str) -> str:
    """SQL: the category of a commodity code (the vocabulary's mapping)."""
    return vocabulary.commodity_category_sql(expr)


def register_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Load the region boxes and unit->region table into ``con``."""
    con.register("ref_regions", regions().to_arrow())
    con.register("ref_unit_regions", unit_regions().to_arrow())
    con.execute("SET TimeZone = 'UTC'")


def with_region(base_sql: str, agency: str, unit_cols: tuple[str, ...] = ("reporting_unit",)) -> str:
    """Wrap a SELECT that has ``_pos, latitude, longitude, reporting_unit`` (and optionally
    ``reported_region``) with ``region_code``, ``region_source`` and ``in_ibet_area``.

    Coordinates decide first (first matching box in file order), then a region the
    agency reported, then the unit's region where the unit lies in one region, else UNK.
    """
    unit_joins = "\n".join(f"LEFT JOIN ref_unit_regions u{i} ON u{i}.agency = '{agency}' AND u{i}.unit = b.{c}"
                           for i, c in enumerate(unit_cols))
    unit_region = "coalesce(" + ", ".join(f"u{i}.region_code" for i in range(len(unit_cols))) + ", NULL)"
    return f"""
    WITH b AS ({base_sql}),
    hit AS (
      SELECT b._pos, arg_min(r.region_code, r.priority) AS region_code
      FROM b JOIN ref_regions r
        ON b.longitude >= r.min_lon AND b.longitude < r.max_lon
       AND b.latitude >= r.min_lat AND b.latitude < r.max_lat
      GROUP BY b._pos)
    SELECT b.*,
      coalesce(hit.region_code, b.reported_region, {unit_region}, 'UNK') AS region_code,
      CASE WHEN hit.region_code IS NOT NULL THEN 'coordinates'
           WHEN b.reported_region IS NOT NULL THEN 'reported'
           WHEN {unit_region} IS NOT NULL THEN 'unit' ELSE 'unknown' END AS region_source,
      CASE WHEN b.latitude IS NULL OR b.longitude IS NULL THEN NULL ELSE hit.region_code IS NOT NULL END
        AS in_ibet_area
    FROM b
    LEFT JOIN hit USING (_pos)
    {unit_joins}
    """


def finalize(con: duckdb.DuckDBPyConnection, table: str, select_sql: str, order_by: str) -> pa.Table:
    """Cast ``select_sql`` to the canonical columns of ``table``, in a stable order."""
    cols = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in TABLES[table])
    return con.sql(f"SELECT {cols} FROM ({select_sql}) q ORDER BY {order_by}").to_arrow_table()


def source_columns(ctx: "dict[str, str]") -> str:
    """The lineage columns every event row carries."""
    # received_at is filled in by the ingest (the file's arrival, or an earlier file's for a repeated record)
    return (f"'{ctx['source_file']}' AS source_file, '{ctx['source_checksum']}' AS source_checksum, "
            "NULL::TIMESTAMPTZ AS received_at")


def empty(con: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
    """A canonical table with no rows (a source that never reports it still writes its partition)."""
    cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in TABLES[table])
    return con.sql(f"SELECT {cols} WHERE false").to_arrow_table()

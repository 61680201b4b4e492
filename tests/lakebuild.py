"""Hand-built lakes for known-answer warehouse tests: canonical rows written as the ingest would."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa

from foundation.lake import PART_FILE, partition_dir, write_json, write_parquet
from foundation.settings import Settings
from transforms.canonical import TABLES

ARROW = {"VARCHAR": pa.string(), "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"), "DATE": pa.date32(),
         "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "INTEGER": pa.int32(), "BIGINT": pa.int64(),
         "SMALLINT": pa.int16()}
UTC = dt.timezone.utc


def ts(text: str) -> dt.datetime:
    """'2007-03-31 12:00' as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


class LakeBuilder:
    """Collect canonical rows, then write one partition per (table, agency, extract date) plus manifests."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rows: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        self.received: dict[tuple[str, str], dt.datetime] = {}

    def event(self, agency: str, source_id: str, occurred_at: str, *, extract_date: str | None = None,
              **values: Any) -> str:
        when = ts(occurred_at)
        day = extract_date or when.date().isoformat()
        uid = f"{agency}:{source_id}"
        row = {"event_uid": uid, "source_id": source_id, "occurred_at": when, "event_date": when.date(),
               "region_code": "PAC", "region_source": "reported", "category": "OTHER", "action": "OCCURRENCE",
               "is_interdiction": False, "is_joint": False, "persons_count": 0, "arrests": 0, "caveat": "REL_IBET",
               "source_file": f"{agency}_{day}.test", "source_checksum": "0" * 64, "source_row": 1}
        row.update(values)
        self.rows[("events", agency, day)].append(row)
        return uid

    def child(self, table: str, agency: str, uid: str, day: str, **values: Any) -> None:
        row = {"event_uid": uid, "caveat": "REL_IBET", **values}
        self.rows[(table, agency, day)].append(row)

    def program(self, table: str, key: str, **values: Any) -> None:
        self.rows[(table, "program", key)].append({"source_file": f"{table}_{key}.test",
                                                   "source_checksum": "0" * 64, **values})

    def write(self) -> None:
        """One Parquet file per partition, and one ingest manifest per (source, key) counting every table."""
        lake = self.settings.lake
        manifests: dict[tuple[str, str, str], dict[str, Any]] = {}
        for (table, agency, key), rows in self.rows.items():
            cols = TABLES[table]
            arrays = {c: pa.array([r.get(c) for r in rows], type=ARROW[t]) for c, t in cols}
            pcol = "fiscal_year" if table == "finance" else "extract_date"
            write_parquet(partition_dir(lake, table, agency, pcol, key) / PART_FILE, pa.table(arrays))
            source = table if agency == "program" else agency
            m = manifests.setdefault((source, agency, key), {
                "source": source, "agency": agency, "file": rows[0].get("source_file", f"{source}_{key}.test"),
                "partition": f"{pcol}={key}", "checksum": "0" * 64, "rows_read": 0, "rows_loaded": 0,
                "rows_quarantined": 0, "tables": {},
                "first_ingested_at": self.received.get((agency, key), ts(
                    (key[:4] + "-04-01" if pcol == "fiscal_year" else key) + " 00:00") + dt.timedelta(days=1))
                .isoformat()})
            m["tables"][table] = len(rows)
            if table in ("events", "finance", "outreach", "radio_tests"):
                m["rows_read"] += len(rows)
                m["rows_loaded"] += len(rows)
        for (source, _agency, key), m in manifests.items():
            write_json(lake / "_ingest" / source / f"{key}.json", m)


def write_reference(settings: Settings, name: str, text: str) -> Path:
    settings.reference.mkdir(parents=True, exist_ok=True)
    path = settings.reference / name
    path.write_text(text)
    return path

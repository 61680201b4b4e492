"""Ingest one partner file: read -> contract -> quarantine -> pseudonymize -> canonical -> lake.

The order matters for privacy: raw values exist only in memory between ``read`` and
the canonical SELECTs; what is written (lake, quarantine, manifest, log) is built from
pseudonyms, generalized values and operational columns only. The order matters for
"nothing half-written" too: a file is rejected before anything is written, and every
output file is replaced atomically.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

from contracts.validate import validate
from ibet import privacy
from ibet.keys import load_key
from ibet.lake import PART_FILE, lake_lock, partition_dir, read_json, write_json, write_parquet
from ibet.logs import get_logger
from ibet.registry import Source, source_for
from ibet.settings import Settings, get_settings
from transforms.common import register_reference
from transforms.readers import RejectedFile


@dataclass
class IngestResult:
    agency: str
    source: str
    file: str
    partition: str  #: e.g. ``extract_date=2026-11-03``
    checksum: str
    status: str  #: ``loaded`` or ``rejected``
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    levels: dict[str, dict[str, int]] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "loaded"

    def to_dict(self) -> dict:
        return asdict(self)


def file_checksum(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_path(settings: Settings, source: Source, key: str) -> Path:
    return settings.lake / "_ingest" / source.name / f"{key}.json"


def rejection_path(settings: Settings, agency: str, filename: str) -> Path:
    return settings.quarantine / agency / "rejected" / f"{filename}.error.json"


def quarantine_path(settings: Settings, source: Source, key: str) -> Path:
    return settings.quarantine / source.agency / f"{source.partition}={key}" / f"{source.name}.parquet"


def ingest_file(agency: str, path: str | Path, settings: Settings | None = None, key: bytes | None = None
                ) -> IngestResult:
    """Ingest ``path`` as ``agency``'s extract; never raises for a bad file (status ``rejected``)."""
    settings = (settings or get_settings()).ensure()
    log = get_logger(settings)
    path = Path(path)
    secret = key if key is not None else load_key(settings)  # refuse before any work without a key
    source, pkey = source_for(agency, path.name)
    checksum = file_checksum(path)
    result = IngestResult(agency, source.name, path.name, f"{source.partition}={pkey}", checksum, "loaded")
    try:
        levels = source.transform().read(path)
        val = validate(source.contract().CONTRACT, levels)
    except RejectedFile as rej:
        result.status, result.reason = "rejected", f"{path.name}: {rej.reason}"
        write_json(rejection_path(settings, agency, path.name), {
            "file": path.name, "agency": agency, "source": source.name, "checksum": checksum,
            "reason": rej.reason, "rejected_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
        log.error("rejected %s/%s: %s", agency, path.name, rej.reason)
        return result
    del levels
    result.levels = {lvl: {"read": val.read[lvl], "loaded": val.loaded[lvl], "quarantined": val.quarantined[lvl]}
                     for lvl in val.read}
    result.rows_read, result.rows_loaded = sum(val.read.values()), sum(val.loaded.values())
    result.rows_quarantined = sum(val.quarantined.values())

    con = privacy.connect(secret)
    try:
        register_reference(con)
        for lvl, df in val.valid.items():
            con.register(f"v_{lvl}", df.to_arrow())
        ctx = {"source_file": path.name, "source_checksum": checksum, "agency": agency}
        tables = source.transform().canonical(con, ctx)
    finally:
        con.close()
    del val.valid
    meta = {"ibet.source_file": path.name, "ibet.source_checksum": checksum}
    with lake_lock(settings.lake, exclusive=False):  # partitions and manifest land together
        for name, table in tables.items():
            write_parquet(partition_dir(settings.lake, name, agency, source.partition, pkey) / PART_FILE, table, meta)
            result.tables[name] = table.num_rows
        qdf = val.quarantine.with_columns(pl.lit(path.name).alias("source_file"),
                                          pl.lit(checksum).alias("source_checksum"))
        write_parquet(quarantine_path(settings, source, pkey), qdf.to_arrow(), meta)

        mpath = manifest_path(settings, source, pkey)
        previous = read_json(mpath) or {}
        first = previous.get("first_ingested_at") if previous.get("checksum") == checksum else None
        write_json(mpath, {
            "agency": agency, "source": source.name, "file": path.name, "checksum": checksum,
            "partition": result.partition, "rows_read": result.rows_read, "rows_loaded": result.rows_loaded,
            "rows_quarantined": result.rows_quarantined, "levels": result.levels, "tables": result.tables,
            "first_ingested_at": first or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "replaced_checksum": previous.get("checksum") if previous.get("checksum") not in (None, checksum)
            else previous.get("replaced_checksum"),
        })
    rejection_path(settings, agency, path.name).unlink(missing_ok=True)
    log.info("ingested %s/%s %s: read=%d loaded=%d quarantined=%d", agency, path.name, result.partition,
             result.rows_read, result.rows_loaded, result.rows_quarantined)
    return result

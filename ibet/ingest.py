"""Ingest one partner file: read -> contract -> quarantine -> pseudonymize -> canonical -> lake.

The order matters for privacy: raw values exist only in memory between ``read`` and
the canonical SELECTs; what is written (lake, quarantine, manifest, log) is built from
pseudonyms, generalized values and operational columns only. The order matters for
"nothing half-written" too: a file is rejected before anything is written, and every
output file is replaced atomically.

Only a regular file is read (a symlink, FIFO, device or folder in the inbox is rejected
unread), up to ``IBET_MAX_FILE_MB``. Whatever goes wrong while processing a file's
records, the exception's message (which a library may fill with a value) is never shown:
the file is rejected with a reason naming the stage and the error class only. Errors of
the machine itself (``OSError``: a full disk, a lost mount) propagate, so that a scheduler
retries them.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from contracts.base import Contract
from contracts.projection import project
from contracts.readers import PARENT, RejectedFile
from contracts.validate import Validation, validate
from foundation import audit, privacy
from foundation.keys import fingerprint, load_key
from foundation.lake import PART_FILE, atomic_write, file_checksum, lake_lock, make_dirs, partition_dir, write_json
from foundation.lakestore import LakeStore
from foundation.logs import get_logger
from foundation.registry import Source, source_for
from foundation.settings import Settings, get_settings
from transforms.common import register_reference
from transforms.pipelines import pipeline
from ibet.ahead import run_ahead
from ibet.batch_outputs import BatchOutputs, Finished
from ibet.hash_index import HashIndex


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


def manifest_path(settings: Settings, source: Source, key: str) -> Path:
    """The manifest's file in a local lake (``settings.lake_store.read_manifest`` reads it wherever it is)."""
    return settings.lake / "_ingest" / source.name / f"{key}.json"


def rejection_path(settings: Settings, agency: str, filename: str) -> Path:
    return settings.quarantine / agency / "rejected" / f"{filename}.error.json"


def quarantine_path(settings: Settings, source: Source, key: str) -> Path:
    return settings.quarantine / source.agency / f"{source.partition}={key}" / f"{source.name}.parquet"


def _arrival(path: Path) -> dt.datetime:
    """When the file reached the inbox: its modification time (an SFTP drop or a copy sets it)."""
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).replace(microsecond=0)


def _regular_file_problem(path: Path, max_bytes: int) -> str | None:
    """Why ``path`` must not be read, or None: only regular files within the size limit are."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "no such file"
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link, not a file: not followed, not read"
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device"
        return f"{kind}, not a regular file: not read"
    if st.st_size > max_bytes:
        return f"{st.st_size / 2**20:,.0f} MB, over the {max_bytes / 2**20:,.0f} MB limit (IBET_MAX_FILE_MB)"
    return None


class _FirstSeen:
    """``received_at`` of each event: when the record was first seen (in the partition's current version,
    for records a corrected re-send repeats), else this file's arrival. The current version's keys are
    indexed once (``HashIndex``), so a re-send of a big day costs one sort, not one hash table per
    batch. A damaged current version reads as none."""

    def __init__(self, old: pa.Table | None, arrival: dt.datetime):
        self.arrival = pa.scalar(arrival, pa.timestamp("us", tz="UTC"))
        self.index: HashIndex | None = None
        if old is None or not old.num_rows or "received_at" not in old.column_names:
            return
        self.index = HashIndex(pl.Series(old["event_uid"]))
        self.at = pl.Series(old["received_at"].cast(pa.timestamp("us", tz="UTC")))

    def fill(self, events: pa.Table) -> pa.Table:
        received = pa.repeat(self.arrival, events.num_rows)
        if self.index is not None and events.num_rows:
            at = self.index.find(pl.Series(events["event_uid"]))
            carried = self.at.gather(np.maximum(at, 0)).to_arrow()
            received = pc.if_else(pa.array(at >= 0), pc.coalesce(carried, received), received)
        i = events.column_names.index("received_at")
        return events.set_column(i, "received_at", received)


def _normalize(con: duckdb.DuckDBPyConnection, source: Source, valid: dict[str, pl.DataFrame], ctx: dict[str, str]
               ) -> dict[str, pa.Table]:
    pipe = pipeline(source.name)
    project(con, pipe.contract, valid)  # the transform sees pseudonyms, never a raw identifier
    return pipe.canonical(con, ctx)


def _subset(contract: Contract, valid: dict[str, pl.DataFrame], top_pos: list[int]) -> dict[str, pl.DataFrame]:
    """The valid records of ``top_pos`` (top-level positions) and their children."""
    keep = pl.Series(top_pos, dtype=pl.Int64).implode()
    out = {contract.top: valid[contract.top].filter(pl.col("_pos").is_in(keep))}
    for lvl, df in valid.items():
        if lvl != contract.top:
            out[lvl] = df.filter(pl.col(PARENT).is_in(keep))
    return out


def _normalize_or_isolate(con: duckdb.DuckDBPyConnection, source: Source, val: Validation, ctx: dict[str, str]
                          ) -> dict[str, pa.Table]:
    """Normalize the valid records; when that fails, find the records it fails on (by halving), quarantine
    them with a safe reason, and normalize the rest. A failure no record explains rejects the file."""
    try:
        return _normalize(con, source, val.valid, ctx)
    except (RejectedFile, OSError):
        raise
    except Exception as first:  # noqa: BLE001 - pinned to records below, or the file is rejected
        error = type(first).__name__
    contract = pipeline(source.name).contract
    top = contract.top

    def failing(positions: list[int]) -> list[int]:
        try:
            _normalize(con, source, _subset(contract, val.valid, positions), ctx)
            return []
        except (RejectedFile, OSError):
            raise
        except Exception:  # noqa: BLE001
            if len(positions) == 1:
                return positions
            half = len(positions) // 2
            return failing(positions[:half]) + failing(positions[half:])

    everything = val.valid[top]["_pos"].to_list()
    bad = failing(everything) if everything else []
    if not bad or len(bad) * 2 > len(everything):
        raise RejectedFile(f"records could not be normalized ({error}), and not by a few records: the file as a "
                           "whole is at fault")
    val.move_to_quarantine(contract, bad, f"record could not be normalized ({error})")
    return _normalize(con, source, val.valid, ctx)


class _Failed(Exception):
    """The file is rejected; ``reason`` is safe to print and to store."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _stream(source: Source, path: Path, secret: bytes, arrival: dt.datetime, store: LakeStore, pkey: str, work: Path,
            meta: dict[str, str], settings: Settings) -> Finished:
    """Read, validate, pseudonymize and normalize ``path`` batch by batch into ``work``; raises ``_Failed``
    with a safe reason for a bad file (nothing of it is kept), ``OSError`` for the machine's faults."""
    pipe = pipeline(source.name)
    ctx = {"source_file": path.name, "source_checksum": meta["ibet.source_checksum"], "agency": source.agency}
    out = BatchOutputs(work, pipe.contract, meta)
    seen: _FirstSeen | None = None
    ahead = {"stage": "reading"}  # what the read-ahead thread is doing

    def validated() -> Iterator[tuple[dict[str, pl.DataFrame], Validation]]:
        for batch in pipe.batches(path, max(1, int(settings.options.batch_mb * 2**20))):
            ahead["stage"] = "validating"
            val = validate(pipe.contract, batch)
            yield batch, val
            ahead["stage"] = "reading"

    stage = "reading"
    con = privacy.connect(secret)
    try:
        register_reference(con)
        batches = run_ahead(validated())  # the next batch is read and validated while this one is normalized
        while True:
            stage = "reading"
            item = next(batches, None)
            if item is None:
                break
            batch, val = item
            stage = "normalizing"
            tables = _normalize_or_isolate(con, source, val, ctx)
            if "events" in tables:
                if seen is None:  # the partition's current version, for a corrected re-send's repeated records
                    rel = partition_dir(Path(), "events", source.agency, source.partition, pkey) / PART_FILE
                    seen = _FirstSeen(store.read_partition(rel.as_posix(), ["event_uid", "received_at"]), arrival)
                tables["events"] = seen.fill(tables["events"])
            stage = "writing"
            out.add(batch, val, tables)
            del batch, val, tables, item
            pa.default_memory_pool().release_unused()  # what this batch took goes back, so memory stays flat
        stage = "checking the whole file"
        return out.finish()
    except RejectedFile as rej:
        raise _Failed(rej.reason) from None
    except OSError:
        raise  # the machine, not the file: let the caller (a scheduler) retry
    except Exception as exc:  # noqa: BLE001 - a message may quote a value: only the class is shown
        where = ahead["stage"] if stage == "reading" else stage
        raise _Failed(f"could not be processed while {where} ({type(exc).__name__}); no record values are "
                      "shown") from None
    finally:
        con.close()
        out.close()


def ingest_file(agency: str, path: str | Path, settings: Settings | None = None, key: bytes | None = None
                ) -> IngestResult:
    """Ingest ``path`` as ``agency``'s extract; never raises for a bad file (status ``rejected``)."""
    settings = (settings or get_settings()).ensure()
    log = get_logger(settings)
    path = Path(path)
    secret = key if key is not None else load_key(settings)  # refuse before any work without a key
    source, pkey = source_for(agency, path.name)
    result = IngestResult(agency, source.name, path.name, f"{source.partition}={pkey}", "", "loaded")

    def reject(reason: str) -> IngestResult:
        result.status, result.reason = "rejected", f"{path.name}: {reason}"
        write_json(rejection_path(settings, agency, path.name), {
            "file": path.name, "agency": agency, "source": source.name, "checksum": result.checksum or None,
            "reason": reason, "rejected_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
        log.error("rejected %s/%s: %s", agency, path.name, reason)
        audit.record(settings, "ingest", agency=agency, file=path.name, checksum=result.checksum or None,
                     status="rejected", reason=reason, partition=result.partition)
        return result

    problem = _regular_file_problem(path, settings.options.max_file_mb * 2**20)
    if problem:
        return reject(problem)
    result.checksum = checksum = file_checksum(path)
    arrival = _arrival(path)
    meta = {"ibet.source_file": path.name, "ibet.source_checksum": checksum}
    store = settings.lake_store
    # the batches' outputs wait here, private (0700), until the whole file has been read
    work = Path(tempfile.mkdtemp(prefix=f"{agency}-", dir=make_dirs(settings.home / "work")))
    try:
        try:
            done = _stream(source, path, secret, arrival, store, pkey, work, meta, settings)
        except _Failed as failed:
            return reject(failed.reason)
        result.levels = {lvl: {"read": done.read[lvl], "loaded": done.loaded[lvl],
                               "quarantined": done.quarantined[lvl]} for lvl in done.read}
        result.rows_read, result.rows_loaded = sum(done.read.values()), sum(done.loaded.values())
        result.rows_quarantined = sum(done.quarantined.values())
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        with lake_lock(settings.lake, exclusive=False):  # partitions and manifest land together
            previous = store.read_manifest(source.name, pkey) or {}
            digests = {}
            for name, file in done.files.items():
                rel = partition_dir(Path(), name, agency, source.partition, pkey).joinpath(PART_FILE).as_posix()
                digests[rel], _ = store.put_partition(rel, file)
                result.tables[name] = done.rows[name]
            atomic_write(quarantine_path(settings, source, pkey), lambda tmp: shutil.copyfile(done.quarantine, tmp))

            history = list(previous.get("history") or ([{"checksum": previous["checksum"], "ingested_at":
                                                         previous.get("first_ingested_at")}] if previous else []))
            if not history or history[-1]["checksum"] != checksum:  # every version ever sent, in order
                history.append({"checksum": checksum, "ingested_at": now, "arrived_at": arrival.isoformat()})
            # the manifest is the switch (object storage: the PUT that makes the new partition objects current)
            store.commit(source.name, pkey, {
                "agency": agency, "source": source.name, "file": path.name, "checksum": checksum,
                "partition": result.partition, "rows_read": result.rows_read, "rows_loaded": result.rows_loaded,
                "rows_quarantined": result.rows_quarantined, "levels": result.levels, "tables": result.tables,
                "first_ingested_at": previous.get("first_ingested_at") or now,
                "replaced_checksum": history[-2]["checksum"] if len(history) > 1 else None,
                "history": history, "files": digests, "key_fingerprint": fingerprint(secret),
                "replaced_files": {rel: d for rel, d in (previous.get("files") or {}).items() if digests.get(rel) != d},
            })
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rejection_path(settings, agency, path.name).unlink(missing_ok=True)
    audit.record(settings, "ingest", agency=agency, file=path.name, checksum=checksum, status="loaded",
                 partition=result.partition, rows_read=result.rows_read, rows_loaded=result.rows_loaded,
                 rows_quarantined=result.rows_quarantined, key_id=fingerprint(secret))
    log.info("ingested %s/%s %s: read=%d loaded=%d quarantined=%d", agency, path.name, result.partition,
             result.rows_read, result.rows_loaded, result.rows_quarantined)
    return result

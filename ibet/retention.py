"""Retention: forget what the warehouse no longer needs (``ibet purge``, the daily ``ibet_purge`` DAG).

What goes, by the home's retention options (``ibet config``; README, "Retention"):

- a raw partner file in the inbox, ``retention_inbox_days`` after the ingest of exactly its bytes
  succeeded (a file never ingested, or ingested in another version, is kept: it is still needed);
- a rejected raw file and its error record, ``retention_rejected_days`` after the rejection;
- a quarantine partition, ``retention_quarantine_days`` after it was written;
- a build the gate rejected, ``retention_rejected_days`` after it was moved aside;
- a lake partition of a source whose contract holds personal data (an identifier or quasi-identifier
  column: the five agencies' extracts) and whose extract date is older than ``retention_lake_days``,
  with its manifest and its quarantine; the warehouse is then rebuilt and published, so no published
  file keeps what the lake forgot (a partition is never removed from under the published set
  without that rebuild). Program data (finance, outreach, radio tests) holds no personal data and is
  the evaluators' history: it is kept.

Every deletion is written to the audit trail (paths relative to the home, never content).
"""
from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from foundation import audit
from foundation.lake import file_checksum, lake_lock, read_json
from foundation.registry import Source, sources
from foundation.settings import Settings
from foundation.vocabulary import fiscal_year_bounds

DAY = dt.timedelta(days=1)


@dataclass
class PurgeResult:
    deleted: list[str] = field(default_factory=list)  #: home-relative paths
    lake_partitions: list[str] = field(default_factory=list)  #: ``source/key`` removed from the lake
    rebuilt: bool = False
    build_error: str = ""
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"deleted": self.deleted, "lake_partitions": self.lake_partitions, "rebuilt": self.rebuilt,
                "build_error": self.build_error, "dry_run": self.dry_run}


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)


def _manifest(settings: Settings, source: Source, key: str) -> dict[str, Any]:
    return settings.lake_store.read_manifest(source.name, key) or {}


def _ingested_at(manifest: dict[str, Any], checksum: str) -> dt.datetime | None:
    """When exactly these bytes were ingested successfully (None: never)."""
    for h in manifest.get("history") or []:
        if h.get("checksum") == checksum and h.get("ingested_at"):
            return dt.datetime.fromisoformat(h["ingested_at"])
    if manifest.get("checksum") == checksum and manifest.get("first_ingested_at"):
        return dt.datetime.fromisoformat(manifest["first_ingested_at"])
    return None


def _partition_end(source: Source, key: str) -> dt.date:
    """The last day a partition covers: its extract date, or the end of its fiscal year."""
    if source.partition == "fiscal_year":
        return fiscal_year_bounds(key)[1]
    return dt.date.fromisoformat(key)


def expired_inbox(settings: Settings, now: dt.datetime) -> list[Path]:
    """Raw files past retention: ingested (these bytes) long enough ago, or rejected long enough ago."""
    opts = settings.options
    out = []
    for s in sources():
        folder = settings.inbox / s.agency
        for f in sorted(folder.glob(s.file_glob)) if folder.is_dir() else []:
            key = s.match(f.name)
            if key is None or not f.is_file():
                continue
            checksum = file_checksum(f)
            done = _ingested_at(_manifest(settings, s, key), checksum)
            if done is not None:
                if opts.retention_inbox_days and now - done >= opts.retention_inbox_days * DAY:
                    out.append(f)
                continue
            rejection = read_json(settings.quarantine / s.agency / "rejected" / f"{f.name}.error.json") or {}
            if rejection.get("checksum") == checksum and opts.retention_rejected_days and rejection.get("rejected_at"):
                if now - dt.datetime.fromisoformat(rejection["rejected_at"]) >= opts.retention_rejected_days * DAY:
                    out.append(f)
    return out


def expired_quarantine(settings: Settings, now: dt.datetime) -> list[Path]:
    opts = settings.options
    out: list[Path] = []
    if opts.retention_quarantine_days:
        out += [p for p in settings.quarantine.glob("*/*=*/*.parquet")
                if now - _mtime(p) >= opts.retention_quarantine_days * DAY]
    if opts.retention_rejected_days:
        out += [p for p in settings.quarantine.glob("*/rejected/*.error.json")
                if now - _mtime(p) >= opts.retention_rejected_days * DAY]
    return sorted(out)


def expired_rejected_builds(settings: Settings, now: dt.datetime) -> list[Path]:
    days = settings.options.retention_rejected_days
    root = settings.warehouse / "rejected"
    if not days or not root.is_dir():
        return []
    return sorted(d for d in root.iterdir() if d.is_dir() and now - _mtime(d) >= days * DAY)


def holds_personal_data(source: Source) -> bool:
    """Whether the source's contract has an identifier or quasi-identifier column (the contract decides)."""
    from contracts.base import IDENTIFIER, QUASI, privacy_of
    from transforms.pipelines import pipeline

    return any(cls in (IDENTIFIER, QUASI) for sch in pipeline(source.name).contract.levels.values()
               for cls in privacy_of(sch).values())


def expired_partitions(settings: Settings, now: dt.datetime, key_id: str | None = None) -> list[tuple[Source, str]]:
    """Personal-data lake partitions older than the lake's retention (or, with ``key_id``, every partition
    pseudonymized under that key)."""
    from foundation.lakestore import LocalLake

    days = settings.options.retention_lake_days
    out = []
    if not isinstance(settings.lake_store, LocalLake):
        if key_id is not None or days:
            raise RuntimeError(f"purging lake partitions on object storage ({settings.lake_store.uri}) is not "
                               "built yet: set IBET_RETENTION_LAKE_DAYS=0 and expire old objects with the "
                               "bucket's lifecycle rules (after removing their manifests), or use a local lake")
        return out
    for s in sources():
        if key_id is None and not holds_personal_data(s):
            continue
        for m in sorted((settings.lake / "_ingest" / s.name).glob("*.json")):
            key = m.stem
            manifest = read_json(m) or {}
            if key_id is not None:
                if manifest.get("key_fingerprint") == key_id:
                    out.append((s, key))
            elif days and (now.date() - _partition_end(s, key)).days > days:
                out.append((s, key))
    return out


def _remove_partition(settings: Settings, source: Source, key: str) -> list[Path]:
    """Every file of one ingested partition: its lake files (as its manifest lists them), quarantine, manifest."""
    mpath = settings.lake / "_ingest" / source.name / f"{key}.json"
    manifest = read_json(mpath) or {}
    paths = [settings.lake / rel for rel in (manifest.get("files") or {})]
    paths.append(settings.quarantine / source.agency / f"{source.partition}={key}" / f"{source.name}.parquet")
    paths.append(mpath)
    return [p for p in paths if p.exists()]


def purge(settings: Settings, now: dt.datetime | None = None, *, dry_run: bool = False, key_id: str | None = None,
          rebuild: Callable[[Settings], Any] | None = None) -> PurgeResult:
    """Delete what is past retention (or, with ``key_id``, the lake partitions made under that retired key),
    audit it, and rebuild the warehouse when lake partitions went (``rebuild``, default ``build_all``)."""
    settings = settings.ensure()
    now = now or dt.datetime.now(dt.timezone.utc)
    result = PurgeResult(dry_run=dry_run)
    files: list[Path] = []
    trees: list[Path] = []
    if key_id is None:
        files += expired_inbox(settings, now) + expired_quarantine(settings, now)
        trees += expired_rejected_builds(settings, now)
    partitions = expired_partitions(settings, now, key_id)

    def rel(p: Path) -> str:
        return p.relative_to(settings.home).as_posix()

    if not dry_run:
        for p in files:
            p.unlink(missing_ok=True)
        for d in trees:
            shutil.rmtree(d, ignore_errors=True)
    result.deleted += [rel(p) for p in files] + [rel(d) + "/" for d in trees]
    if partitions:
        with lake_lock(settings.lake, exclusive=True):  # no build reads a half-removed partition
            for source, key in partitions:
                gone = _remove_partition(settings, source, key)
                if not dry_run:
                    for p in gone:
                        p.unlink(missing_ok=True)
                result.deleted += [rel(p) for p in gone]
                result.lake_partitions.append(f"{source.name}/{key}")
    if not dry_run and result.deleted:
        audit.record(settings, "purge", deleted=result.deleted, lake_partitions=result.lake_partitions,
                     key_id=key_id, policy={k: getattr(settings.options, k) for k in (
                         "retention_inbox_days", "retention_quarantine_days", "retention_rejected_days",
                         "retention_lake_days")})
    if result.lake_partitions and not dry_run:
        build = rebuild or _build_all
        try:
            build(settings)
            result.rebuilt = True
        except Exception as exc:  # noqa: BLE001 - reported, and audited: the published set still holds them
            result.build_error = f"{type(exc).__name__}: {exc}"
            audit.record(settings, "purge_rebuild_failed", error=type(exc).__name__)
    return result


def _build_all(settings: Settings) -> None:
    from warehouse.build import build_all

    result = build_all(settings, full=True, force=True)
    if not result.published:
        raise RuntimeError(f"the rebuild after the purge was not published: {result.gate_message or 'see the gate'}")

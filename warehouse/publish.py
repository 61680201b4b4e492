"""Publishing: every build is a directory of its own; the published set is one pointer.

::

    warehouse/
      builds/<build id>/{ibet,can,usa,evaluator}.duckdb, build.json   one directory per build
      current -> builds/<build id>                                      the published set (a symlink)
      <audience>.duckdb -> current/<audience>.duckdb                    stable names for readers
      rejected/<build id>/                                              builds the gate blocked
      .build/                                                           staging, work files, lock, history

A build is written into its own directory, audited there, and published by switching the
``current`` symlink with one atomic rename: the four audience files change as one set, a
reader that resolved ``current`` keeps its set (open files survive the switch and older
builds are kept), and no file is ever written in place. Only files whose SHA-256 the gate
recorded are published (``build.json``), and a build older than the published one is never
published over it (except by an explicit rollback).

The lock (``filelock``, a local file) serializes building and publishing within one host.
It is not a cross-machine lock: a deployment with workers on several hosts runs the marts
build on one of them (an Airflow pool of one slot, see the README, "Scaling out").
"""
from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from filelock import FileLock, Timeout

from foundation import audit
from foundation.lake import file_checksum, read_json, write_json
from foundation.logs import get_logger
from foundation.settings import AUDIENCES, Settings

#: Published sets kept besides the current one (readers of an older set, and rollback).
KEEP_PUBLISHED = 3
#: An unpublished build older than this is abandoned and removed by the next build.
STALE_AFTER_S = 24 * 3600
MANIFEST = "build.json"


class BuildLockedError(RuntimeError):
    """Another build holds the warehouse lock."""


class PublishError(RuntimeError):
    """A build cannot be published (not audited, altered since its audit, or older than the current one)."""


@dataclass
class AudienceBuild:
    audience: str
    candidate: Path
    published: Path
    tables: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    touched_events: int | None = None  #: events redone on a copy of the published file; None: built in full


def builds_root(settings: Settings) -> Path:
    return settings.warehouse / "builds"


def current_link(settings: Settings) -> Path:
    return settings.warehouse / "current"


def published_path(settings: Settings, audience: str) -> Path:
    """The stable name of a published file (a symlink through ``current``)."""
    return settings.warehouse / f"{audience}.duckdb"


def build_dir(settings: Settings, build_id: str) -> Path:
    return builds_root(settings) / build_id


def new_build_id() -> str:
    """Sortable by time: ``20261123T231502.123456Z-3f9a``."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ") + "-" + secrets.token_hex(2)


def current_build_id(settings: Settings) -> str | None:
    try:
        return Path(os.readlink(current_link(settings))).name
    except OSError:
        return None


def current_dir(settings: Settings) -> Path | None:
    """The published set's directory, resolved once (open every file of a set from here)."""
    bid = current_build_id(settings)
    return build_dir(settings, bid) if bid and build_dir(settings, bid).is_dir() else None


@contextmanager
def build_lock(settings: Settings, timeout: float = 600.0) -> Iterator[None]:
    """One build or publication at a time per IBET_HOME (re-entrant within a process)."""
    path = settings.warehouse / ".build" / "build.lock"
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    lock = FileLock(str(path), mode=0o640, is_singleton=True)  # one object per path: re-entrant
    try:
        with lock.acquire(timeout=timeout):
            yield
    except Timeout:
        raise BuildLockedError(f"another build has held {path} for over {timeout:.0f} s") from None


def read_manifest(directory: Path) -> dict[str, Any]:
    return read_json(directory / MANIFEST) or {}


def write_manifest(directory: Path, **changes: Any) -> dict[str, Any]:
    data = {**read_manifest(directory), **changes}
    write_json(directory / MANIFEST, data)
    return data


def start_build(settings: Settings) -> tuple[str, Path]:
    """A new, empty build directory (0750) recorded as being built by this process."""
    bid = new_build_id()
    builds_root(settings).mkdir(mode=0o750, exist_ok=True)
    d = build_dir(settings, bid)
    d.mkdir(mode=0o750)
    write_manifest(d, build_id=bid, state="building", host=socket.gethostname(), pid=os.getpid(),
                   started_at=dt.datetime.now(dt.timezone.utc).isoformat())
    return bid, d


def audience_files(directory: Path) -> dict[str, Path]:
    return {a: directory / f"{a}.duckdb" for a in AUDIENCES if (directory / f"{a}.duckdb").exists()}


def record_audit(directory: Path, gate: dict[str, Any]) -> dict[str, Any]:
    """After the gate passed: the digest (and size) of every file, as audited. Publication checks them."""
    files = audience_files(directory)
    return write_manifest(directory, state="audited", digests={a: file_checksum(p) for a, p in files.items()},
                          sizes={a: p.stat().st_size for a, p in files.items()}, gate_success=gate.get("success"),
                          audited_at=dt.datetime.now(dt.timezone.utc).isoformat())


class PublishedIntegrityError(RuntimeError):
    """A published file is not the file the gate audited (damaged or altered)."""


def verify_published(settings: Settings, *, full: bool = True) -> None:
    """The published set against the digests recorded at its audit (``full=False``: sizes only, cheap)."""
    d = current_dir(settings)
    if d is None:
        return
    m = read_manifest(d)
    for audience, path in audience_files(d).items():
        ok = (path.stat().st_size == (m.get("sizes") or {}).get(audience, path.stat().st_size)
              and (not full or file_checksum(path) == (m.get("digests") or {}).get(audience)))
        if not ok:
            raise PublishedIntegrityError(
                f"published file {audience}.duckdb (build {d.name}) is not the file the quality gate audited "
                f"(damaged or altered): rebuild and republish with `ibet build --force`, or roll back")


def latest_unpublished(settings: Settings, states: tuple[str, ...] = ("built", "audited")) -> str | None:
    """The newest build that is built (or audited) but not published."""
    root = builds_root(settings)
    if not root.is_dir():
        return None
    for d in sorted(root.iterdir(), reverse=True):
        if d.is_dir() and read_manifest(d).get("state") in states:
            return d.name
    return None


def _alive(manifest: dict[str, Any]) -> bool:
    if manifest.get("host") != socket.gethostname():
        return True  # another host's build: not ours to judge
    try:
        os.kill(int(manifest.get("pid", 0)), 0)
        return True
    except (OSError, ValueError):
        return False


def clean_stale(settings: Settings) -> list[str]:
    """Remove what a crashed or abandoned build left: work files, half-built and abandoned directories."""
    removed = []
    for p in (settings.warehouse / ".build").glob("*.work.duckdb*"):
        p.unlink(missing_ok=True)
        removed.append(p.name)
    for p in settings.warehouse.glob("*.duckdb.new*"):  # the layout before build directories
        p.unlink(missing_ok=True)
        removed.append(p.name)
    root = builds_root(settings)
    current = current_build_id(settings)
    for p in (settings.warehouse / ".build" / "evaluator-work").glob("*.duckdb*"):  # kept for the published build
        if p.name.split(".duckdb")[0] != current:
            p.unlink(missing_ok=True)
            removed.append(p.name)
    now = time.time()
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        m = read_manifest(d)
        state = m.get("state")
        crashed = state == "building" and not _alive(m)
        abandoned = state in ("built", "audited", None) and now - d.stat().st_mtime > STALE_AFTER_S
        if d.name != current and (crashed or abandoned):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d.name)
    return removed


def reject_build(settings: Settings, build_id: str, gate: dict[str, Any]) -> Path:
    """Move a blocked build aside for inspection; the published set stays as it was."""
    src = build_dir(settings, build_id)
    target = settings.warehouse / "rejected" / build_id
    target.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    write_manifest(src, state="rejected")
    os.replace(src, target)
    write_json(target / "gate.json", gate)
    return target


def _link(path: Path, target: str) -> None:
    """Point the symlink ``path`` at ``target`` atomically (a new link renamed over the old one)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    os.symlink(target, tmp)
    os.replace(tmp, path)


def publish_build(settings: Settings, build_id: str, *, rollback: bool = False) -> list[Path]:
    """Switch the published set to ``build_id``: audited, unaltered, and not older than the current one."""
    log = get_logger(settings)
    with build_lock(settings):
        d = build_dir(settings, build_id)
        m = read_manifest(d)
        if not d.is_dir() or m.get("state") not in ("audited", "published"):
            raise PublishError(f"build {build_id} is not an audited build (state: {m.get('state') or 'missing'})")
        current = current_build_id(settings)
        if current and build_id < current and not rollback:
            raise PublishError(f"build {build_id} is older than the published build {current}: not published "
                               "(a newer build already holds this data; `ibet publish --rollback` to go back)")
        files = audience_files(d)
        changed = [a for a, p in files.items() if file_checksum(p) != (m.get("digests") or {}).get(a)]
        if changed or set(files) != set(m.get("digests") or {}):
            raise PublishError(f"build {build_id}: {', '.join(changed) or 'the set of files'} changed since the "
                               "quality gate audited it; not published")
        for a in files:
            os.chmod(files[a], 0o640)
        _link(current_link(settings), f"builds/{build_id}")
        for a in files:  # stable names, once (an old home's real files are replaced by the links)
            path = published_path(settings, a)
            if not path.is_symlink():
                _link(path, f"current/{a}.duckdb")
        write_manifest(d, state="published", published_at=dt.datetime.now(dt.timezone.utc).isoformat())
        audit.record(settings, "rollback" if rollback else "publish", build_id=build_id, previous=current,
                     audiences=sorted(files), digests=m.get("digests"), lake_state=m.get("fingerprint"))
        write_json(settings.warehouse / ".build" / "published.json", {
            "build_id": build_id, "fingerprint": m.get("fingerprint"), "audiences": sorted(files),
            "agency_events": m.get("agency_events", {}), "digests": m.get("digests"),
            "published_at": dt.datetime.now(dt.timezone.utc).isoformat()})
        _prune(settings, build_id)
        log.info("published build %s (%s)", build_id, ", ".join(sorted(files)))
    return [published_path(settings, a) for a in files]


def kept_builds(settings: Settings) -> list[dict[str, Any]]:
    """The published builds kept (the current one and up to ``KEEP_PUBLISHED`` before it), newest first."""
    root = builds_root(settings)
    out = []
    for d in sorted(root.iterdir(), reverse=True) if root.is_dir() else []:
        m = read_manifest(d)
        if d.is_dir() and m.get("state") == "published":
            out.append({"build_id": d.name, "published_at": m.get("published_at"), "fingerprint": m.get("fingerprint"),
                        "audiences": sorted(m.get("digests") or {})})
    return out


def _prune(settings: Settings, current: str) -> None:
    """Keep the current set and the ``KEEP_PUBLISHED`` sets published before it."""
    root = builds_root(settings)
    published = sorted(d.name for d in root.iterdir() if d.is_dir() and d.name != current
                       and read_manifest(d).get("state") == "published")
    for old in published[:-KEEP_PUBLISHED] if KEEP_PUBLISHED else published:
        shutil.rmtree(root / old, ignore_errors=True)


def published_set(settings: Settings) -> dict[str, AudienceBuild]:
    """The current set's files, resolved once."""
    d = current_dir(settings)
    if d is None:
        return {}
    tables = read_manifest(d).get("tables", {})
    return {a: AudienceBuild(a, p, published_path(settings, a), tables.get(a, {}))
            for a, p in audience_files(d).items()}

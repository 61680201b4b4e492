"""The Parquet lake: hive partitions ``<table>/agency=<a>/<extract_date|fiscal_year>=<k>/part-0.parquet``.

Each partition is one file, replaced atomically (write beside, fsync, ``os.replace``):
a reader sees the old file or the new one, never half of one. The same input gives
the same bytes (no write times inside), so re-ingesting a day changes nothing, and a
corrected re-send replaces the partition instead of adding to it.
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

PART_FILE = "part-0.parquet"


class LakeBusyError(RuntimeError):
    """The lake stayed locked by another process for longer than the wait allowed."""


@contextmanager
def lake_lock(lake: Path, exclusive: bool, timeout: float = 900.0) -> Iterator[None]:
    """Writers of one file's partitions + manifest hold it shared; a reader that needs a
    consistent snapshot of the whole lake (the warehouse's staging refresh) holds it
    exclusive, so it never sees a partition without its manifest or the reverse.

    filelock's SQLite-backed read-write lock: it holds across the processes of one host
    (ingest tasks, the CLI, the marts build). A fresh instance per use, because one instance
    refuses rather than waits when two threads of a process ask for opposite modes. Across
    hosts the lake's own rules keep it correct (README, "Scaling out"): one writer per
    partition by construction, atomic renames, and a build that reads a manifest-checked
    snapshot.
    """
    from filelock import ReadWriteLock, Timeout

    path = make_dirs(lake / "_ingest") / ".lock.db"
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)  # need to know, like every other file
        os.close(fd)
    lock = ReadWriteLock(path, timeout=timeout, is_singleton=False)
    try:
        (lock.acquire_write if exclusive else lock.acquire_read)()
    except Timeout:
        mode = "exclusive" if exclusive else "shared"
        raise LakeBusyError(f"the lake at {lake} stayed locked for over {timeout:.0f} s (waiting for {mode} "
                            "access): another ingest or build is still running") from None
    try:
        yield
    finally:
        lock.release()


def partition_dir(root: Path, table: str, agency: str, partition_col: str, key: str) -> Path:
    return root / table / f"agency={agency}" / f"{partition_col}={key}"


#: Need to know: what ibet writes is readable by its owner and group only.
FILE_MODE, DIR_MODE = 0o640, 0o750


def make_dirs(path: Path) -> Path:
    """``mkdir -p`` with mode 0750 for every folder it creates (``mkdir(parents=True)`` would use the umask)."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass
        os.chmod(d, DIR_MODE)
    return path


def atomic_write(path: Path, write: Any, mode: int = FILE_MODE) -> None:
    """Call ``write(tmp)`` on a private temporary file beside ``path``, then move it into place with
    the need-to-know ``mode``: a reader sees the old file or the new one, never half of one."""
    make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # created 0600
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(path: Path, table: pa.Table, metadata: dict[str, str] | None = None) -> None:
    """Write ``table`` to ``path`` atomically and deterministically."""
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd", row_group_size=256_000))


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically with sorted keys (stable bytes)."""
    data = json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n"
    atomic_write(path, lambda tmp: Path(tmp).write_text(data))


def write_text(path: Path, text: str) -> None:
    """Write text (a report, a page) atomically, owner/group-only."""
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def file_checksum(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (bounded memory for any size)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

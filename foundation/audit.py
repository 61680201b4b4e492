"""The audit trail: who did what, when, from which data. Append-only and hash-chained.

``IBET_HOME/audit/audit.jsonl`` holds one JSON object per line: every ingest (file checksum,
counts), every build, gate result, publication and rollback (lake state, file digests),
every query of a published file (audience, statement with its literals masked, row count,
OS user), every key operation (key ids only) and every purge (what was deleted).

Each entry carries the SHA-256 of the entry before it (``prev``) and its own (``hash``, over
its canonical JSON without ``hash``), so editing, removing or reordering a past entry breaks
the chain at that entry: ``ibet audit --verify`` finds it. ``audit/head.json`` records the
newest entry's number and hash, so cutting entries off the end is found too. An account that
can rewrite both files and recompute every hash can forge a history: the README's Security
section says to ship the log to a separate store (or account) for that threat.

Entries hold ids, counts, digests, names of files and tables: never a record value, never a
key. A query's string and number literals are masked before it is written (an analyst's
``WHERE name = '...'`` would otherwise put the name in the log); its SHA-256 identifies it.
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from foundation.lake import FILE_MODE, make_dirs
from foundation.settings import Settings

GENESIS = "0" * 64
LOG_NAME = "audit.jsonl"
HEAD_NAME = "head.json"
#: string literals ('...' with '' escapes), dollar-quoted strings, and numbers not inside names
_LITERALS = re.compile(r"'(?:[^']|'')*'|\$\$.*?\$\$|(?<![\w.])\d+(?:\.\d+)?(?![\w.])", re.S)


def audit_dir(settings: Settings) -> Path:
    return settings.audit


def log_path(settings: Settings) -> Path:
    return audit_dir(settings) / LOG_NAME


def mask_statement(sql: str) -> str:
    """A statement with its literals replaced by ``?``: what was asked, not the values asked for."""
    return _LITERALS.sub("?", sql).strip()


def statement_digest(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=True).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of the entry's canonical JSON without its own ``hash``."""
    return hashlib.sha256(_canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return f"uid:{os.getuid()}"


def _last_line(path: Path) -> bytes | None:
    """The last non-empty line of ``path`` read from its end (the log can be large)."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        block, data = 4096, b""
        while end > 0:
            start = max(0, end - block)
            fh.seek(start)
            data = fh.read(end - start) + data
            lines = [ln for ln in data.split(b"\n") if ln.strip()]
            if len(lines) > 1 or start == 0:
                return lines[-1] if lines else None
            end = start
    return None


def record(settings: Settings, action: str, **fields: Any) -> dict[str, Any]:
    """Append one entry (under a lock: concurrent writers never fork the chain) and return it."""
    from filelock import FileLock

    d = make_dirs(audit_dir(settings))
    path = d / LOG_NAME
    with FileLock(str(d / ".lock"), mode=FILE_MODE):
        prev, seq = GENESIS, 0
        if path.exists():
            last = _last_line(path)
            if last:
                tail = json.loads(last)
                prev, seq = tail["hash"], int(tail["seq"])
        entry = {"seq": seq + 1, "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds"),
                 "action": action, "user": _user(), "host": socket.gethostname(), "pid": os.getpid(),
                 **fields, "prev": prev}
        entry["hash"] = entry_hash(entry)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        try:
            os.write(fd, _canonical(entry) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        head = d / HEAD_NAME
        tmp = d / f".{HEAD_NAME}.tmp"
        tmp.write_text(json.dumps({"seq": entry["seq"], "hash": entry["hash"]}) + "\n")
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, head)
    return entry


def entries(settings: Settings, since: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    """The entries in order (``since``: those at or after it), one line at a time."""
    path = log_path(settings)
    if not path.exists():
        return
    with open(path, "rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            e = json.loads(line)
            if since is None or dt.datetime.fromisoformat(e["at"]) >= since:
                yield e


@dataclass
class Verification:
    ok: bool
    entries: int
    problem: str = ""  #: what is wrong and at which entry (empty when ok)


def verify(settings: Settings) -> Verification:
    """Walk the chain: every hash right, every ``prev`` the hash before it, numbers consecutive, and the
    head file's entry present (nothing cut off the end)."""
    path = log_path(settings)
    prev, n = GENESIS, 0
    if path.exists():
        with open(path, "rb") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    e = json.loads(line)
                except ValueError:
                    return Verification(False, n, f"line {lineno} is not a JSON entry")
                n += 1
                if e.get("seq") != n:
                    return Verification(False, n, f"line {lineno}: entry number {e.get('seq')}, expected {n} "
                                                  "(an entry was removed or reordered)")
                if e.get("prev") != prev:
                    return Verification(False, n, f"entry {n}: does not follow entry {n - 1} (its 'prev' is not "
                                                  "that entry's hash: an entry before it was changed or removed)")
                if entry_hash(e) != e.get("hash"):
                    return Verification(False, n, f"entry {n} ({e.get('action')}, {e.get('at')}): its content "
                                                  "does not match its hash (edited after it was written)")
                prev = e["hash"]
    try:
        head = json.loads((audit_dir(settings) / HEAD_NAME).read_text())
    except FileNotFoundError:
        head = None
    if head is not None and (head.get("seq", 0) > n or (head.get("seq") == n and head.get("hash") != prev)):
        return Verification(False, n, f"the log ends at entry {n} but entry {head.get('seq')} was written "
                                      "(entries were cut off the end)")
    if head is None and n:
        return Verification(False, n, f"{HEAD_NAME} is missing: the end of the log cannot be checked")
    return Verification(True, n)

"""Where the lake lives: a local folder (the default) or S3-compatible object storage (``IBET_LAKE_URI``).

Both stores keep the same logical layout, ``<table>/agency=<a>/<extract_date|fiscal_year>=<k>/part-0.parquet``
(the *partition path*), and the same ingest manifests ``_ingest/<source>/<key>.json``, which record each
partition's SHA-256. What differs is how a partition is replaced as one unit:

- **Local folder**: write beside, fsync, ``os.replace`` (a reader sees the old file or the new one).
- **Object storage** has no rename. A partition's bytes go to a *new object named by their digest*
  (``<table>/agency=…/extract_date=…/v-<sha256>.parquet``; equal bytes, equal name: a re-ingest writes
  nothing), and the manifest, which names that object, is written last: one PUT of one small object,
  atomic on S3. The manifest is the switch. A reader reads the manifests first, then exactly the objects
  they name; superseded objects are kept one version back (a build that read the previous manifest
  still finds its objects) and deleted after that.

Credentials for object storage come from the environment or a secrets backend only (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL`` for an S3-compatible server, ``AWS_REGION``), never from
the URI, a file of the project or a log line.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.parquet as pq

from foundation.lake import PART_FILE, atomic_write, file_checksum, read_json, write_json
from foundation.sqltext import literal

MANIFESTS = "_ingest"


class LakeConfigError(ValueError):
    """IBET_LAKE_URI (or the object storage credentials) cannot be used; the message says why."""


class LakeStore(ABC):
    """The lake's partitions and manifests, wherever they are stored."""

    uri: str

    # ------------------------------------------------------------- manifests (the record of each ingest)
    @abstractmethod
    def read_manifest(self, source: str, key: str) -> dict | None:
        """The manifest of one source file's partition key, or None."""

    @abstractmethod
    def manifests(self) -> list[dict]:
        """Every manifest, in a stable order (source, key)."""

    # ------------------------------------------------------------- partitions
    @abstractmethod
    def put_partition(self, rel: str, local: Path) -> tuple[str, str]:
        """Store a finished local Parquet file as a partition's new version (``local`` is moved or
        copied); returns (SHA-256, where it is). Invisible to readers until ``commit`` writes the manifest
        naming it (object storage) or replaced in place (local)."""

    @abstractmethod
    def commit(self, source: str, key: str, manifest: dict) -> None:
        """Write the manifest: the partitions it names become the lake's."""

    @abstractmethod
    def read_partition(self, rel: str, columns: list[str] | None = None) -> pa.Table | None:
        """The current version of a partition, or those ``columns`` of it (None when absent or unreadable)."""

    @abstractmethod
    def partitions(self, table: str) -> dict[str, tuple[int, int]]:
        """Partition path -> a version stamp (two ints) of every current partition of ``table``."""

    @abstractmethod
    def checksum(self, rel: str) -> str:
        """SHA-256 of the stored bytes of a partition's current version."""

    def attach(self, con: Any) -> None:
        """Let DuckDB's ``read_parquet`` on ``con`` read this store (before any transaction starts: a failed
        probe inside one would abort it)."""

    @abstractmethod
    def sources(self, rels: list[str]) -> dict[str, str]:
        """Partition path -> the path ``read_parquet`` reads on a connection ``attach`` prepared."""

    def digests(self) -> dict[str, tuple[str, str]]:
        """Partition path -> (recorded SHA-256, ``agency/file`` of the manifest naming it)."""
        out = {}
        for m in self.manifests():
            for rel, digest in (m.get("files") or {}).items():
                out[rel] = (digest, f"{m.get('agency')}/{m.get('file')}")
        return out

    def has_partitions(self) -> bool:
        return any(m.get("files") for m in self.manifests())


class LocalLake(LakeStore):
    """The lake in a folder: partitions replaced by atomic rename (``foundation.lake``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = str(root)

    def _manifest_path(self, source: str, key: str) -> Path:
        return self.root / MANIFESTS / source / f"{key}.json"

    def read_manifest(self, source: str, key: str) -> dict | None:
        return read_json(self._manifest_path(source, key))

    def manifests(self) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted((self.root / MANIFESTS).glob("*/*.json"))]

    def put_partition(self, rel: str, local: Path) -> tuple[str, str]:
        target = self.root / rel
        digest = file_checksum(local)
        atomic_write(target, lambda tmp: shutil.move(local, tmp))
        return digest, str(target)

    def commit(self, source: str, key: str, manifest: dict) -> None:
        write_json(self._manifest_path(source, key), manifest)

    def read_partition(self, rel: str, columns: list[str] | None = None) -> pa.Table | None:
        try:  # one known file: ParquetFile, without read_table's dataset layer (its imports, its discovery)
            return pq.ParquetFile(self.root / rel).read(columns=columns)
        except (OSError, pa.ArrowInvalid):
            return None

    def partitions(self, table: str) -> dict[str, tuple[int, int]]:
        out = {}
        for p in sorted((self.root / table).glob(f"agency=*/*=*/{PART_FILE}")):
            st = p.stat()
            out[p.relative_to(self.root).as_posix()] = (st.st_size, st.st_mtime_ns)
        return out

    def checksum(self, rel: str) -> str:
        return file_checksum(self.root / rel)

    def has_partitions(self) -> bool:
        return any(self.root.glob("*/agency=*"))

    def sources(self, rels: list[str]) -> dict[str, str]:
        return {rel: str(self.root / rel) for rel in rels}


def _object_fs(uri: str):
    """pyarrow's S3 file system for ``uri`` from the AWS_* environment (credentials never from the URI)."""
    from pyarrow import fs as pafs

    parsed = urlparse(uri)
    if parsed.username or parsed.password:
        raise LakeConfigError("IBET_LAKE_URI must not carry credentials: set AWS_ACCESS_KEY_ID and "
                              "AWS_SECRET_ACCESS_KEY (or a secrets backend) instead")
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or ""
    kwargs: dict[str, Any] = {"region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                              or "us-east-1"}
    if endpoint:
        ep = urlparse(endpoint)
        kwargs.update(endpoint_override=ep.netloc or ep.path, scheme=ep.scheme or "https")
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        kwargs.update(access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
                      session_token=os.environ.get("AWS_SESSION_TOKEN"))
    return pafs.S3FileSystem(**kwargs), kwargs


class ObjectLake(LakeStore):
    """The lake on S3-compatible object storage: immutable objects named by digest, manifests as the switch."""

    KEEP_VERSIONS = 2  #: the current version and the one before it (a build may still be reading it)

    def __init__(self, uri: str) -> None:
        parsed = urlparse(uri)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise LakeConfigError(f"IBET_LAKE_URI {uri!r}: expected s3://bucket[/prefix] or a local path")
        self.uri = uri.rstrip("/")
        self.base = (parsed.netloc + "/" + parsed.path.strip("/")).rstrip("/")
        self.fs, self._conf = _object_fs(uri)

    def _key(self, rel: str) -> str:
        return f"{self.base}/{rel}"

    def _read_json(self, key: str) -> dict | None:
        from pyarrow import fs as pafs

        if self.fs.get_file_info(key).type != pafs.FileType.File:
            return None
        with self.fs.open_input_stream(key) as fh:
            return json.loads(fh.read())

    def read_manifest(self, source: str, key: str) -> dict | None:
        return self._read_json(self._key(f"{MANIFESTS}/{source}/{key}.json"))

    def _listing(self, prefix: str) -> Iterator[Any]:
        from pyarrow import fs as pafs

        sel = pafs.FileSelector(self._key(prefix), recursive=True, allow_not_found=True)
        return iter(sorted((i for i in self.fs.get_file_info(sel) if i.type == pafs.FileType.File),
                           key=lambda i: i.path))

    def manifests(self) -> list[dict]:
        out = []
        for info in self._listing(MANIFESTS):
            if info.path.endswith(".json"):
                m = self._read_json(info.path)
                if m is not None:
                    out.append(m)
        return out

    def put_partition(self, rel: str, local: Path) -> tuple[str, str]:
        from pyarrow import fs as pafs

        digest = file_checksum(local)
        obj = self._key(_object_name(rel, digest))
        if self.fs.get_file_info(obj).type != pafs.FileType.File:  # equal bytes: already stored
            with open(local, "rb") as src, self.fs.open_output_stream(obj) as dst:  # visible on close only
                for block in iter(lambda: src.read(8 << 20), b""):
                    dst.write(block)
        return digest, f"s3://{obj}"

    def commit(self, source: str, key: str, manifest: dict) -> None:
        data = (json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n").encode()
        with self.fs.open_output_stream(self._key(f"{MANIFESTS}/{source}/{key}.json")) as out:
            out.write(data)  # one PUT: the switch
        for rel, digest in (manifest.get("files") or {}).items():
            self._prune(rel, digest, (manifest.get("replaced_files") or {}).get(rel))

    def _prune(self, rel: str, current: str, previous: str | None) -> None:
        """Delete versions of ``rel`` other than the current one and the one it replaced."""
        keep = {_object_name(rel, current), *([_object_name(rel, previous)] if previous else [])}
        folder = rel.rsplit("/", 1)[0]
        for info in self._listing(folder):
            name = info.path[len(self.base) + 1:]
            if name.rsplit("/", 1)[0] == folder and name.endswith(".parquet") and name not in keep:
                self.fs.delete_file(info.path)

    def _current(self) -> dict[str, str]:
        return {rel: d for rel, (d, _) in self.digests().items()}

    def read_partition(self, rel: str, columns: list[str] | None = None) -> pa.Table | None:
        digest = self._current().get(rel)
        if digest is None:
            return None
        try:
            with self.fs.open_input_file(self._key(_object_name(rel, digest))) as f:
                return pq.ParquetFile(f).read(columns=columns)
        except (OSError, pa.ArrowInvalid):
            return None

    def partitions(self, table: str) -> dict[str, tuple[int, int]]:
        # the version is the digest the manifest names: a new version is a new digest
        return {rel: (int(d[:15], 16), int(d[15:30], 16)) for rel, d in sorted(self._current().items())
                if rel.split("/", 1)[0] == table}

    def checksum(self, rel: str) -> str:
        h = hashlib.sha256()
        with self.fs.open_input_stream(self._key(_object_name(rel, self._current()[rel]))) as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    def attach(self, con: Any) -> None:
        self.reader = register_object_storage(con, self)

    def sources(self, rels: list[str]) -> dict[str, str]:
        current = self._current()
        return {rel: f"s3://{self._key(_object_name(rel, current[rel]))}" for rel in rels}


def _object_name(rel: str, digest: str) -> str:
    """Partition path -> the object of one version: same folder (hive keys intact), named by its digest."""
    return f"{rel.rsplit('/', 1)[0]}/v-{digest}.parquet"


def register_object_storage(con: Any, lake: ObjectLake) -> str:
    """Let DuckDB read ``s3://`` paths of ``lake`` on ``con``: DuckDB's httpfs when the extension is already
    installed (it is downloaded from extensions.duckdb.org, which closed networks cannot reach), else
    pyarrow's S3 client behind fsspec. Returns which one."""
    import duckdb

    try:
        con.execute("LOAD httpfs")  # never INSTALL here: no network fetch in the middle of a build
        conf = lake._conf
        parts = ["TYPE s3", f"REGION '{conf['region']}'", "URL_STYLE 'path'"]
        if conf.get("endpoint_override"):
            parts += [f"ENDPOINT '{conf['endpoint_override']}'", f"USE_SSL {str(conf['scheme'] == 'https').lower()}"]
        if conf.get("access_key"):
            parts += [f"KEY_ID {literal(conf['access_key'])}", f"SECRET {literal(conf.get('secret_key'))}"]
        else:
            parts.append("PROVIDER credential_chain")
        con.execute(f"CREATE OR REPLACE TEMPORARY SECRET ibet_lake ({', '.join(parts)})")
        return "httpfs"
    except duckdb.Error:
        from fsspec.implementations.arrow import ArrowFSWrapper

        class _S3(ArrowFSWrapper):
            protocol = ("s3",)

        con.register_filesystem(_S3(lake.fs))
        return "fsspec"


def open_lake(local_root: Path, uri: str | None) -> LakeStore:
    """The store ``IBET_LAKE_URI`` names: empty or a path = a folder (default ``IBET_HOME/lake``), ``s3://``
    = object storage."""
    if not uri:
        return LocalLake(local_root)
    scheme = urlparse(uri).scheme
    if scheme == "s3":
        return ObjectLake(uri)
    if scheme in ("", "file"):
        return LocalLake(Path(urlparse(uri).path if scheme else uri).expanduser().resolve())
    raise LakeConfigError(f"IBET_LAKE_URI {uri!r}: unsupported scheme {scheme!r} (a local path or s3://bucket/prefix)")

"""The lake on S3-compatible object storage (IBET_LAKE_URI=s3://…), against moto's S3 server on loopback.

Ingest writes each partition as a new object named by its digest and switches the manifest last; the
build reads the objects the manifests name through DuckDB. The published warehouse equals the one a local
lake gives from the same files and key; a re-ingest writes nothing; an ingest that dies before its switch
changes nothing a reader sees; superseded versions are kept one back, then deleted."""
from __future__ import annotations

import datetime as dt
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from foundation.lakestore import LakeConfigError, ObjectLake, open_lake
from foundation.registry import AGENCIES
from foundation.settings import Settings, init_home
from ibet.generator import generate
from ibet.ingest import ingest_file
from ibet.orchestration.tasks import ingest_day
from warehouse.build import build_all, published_path

DAY = dt.date(2026, 11, 2)
BUCKET = "ibet-lake"


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """moto's standalone S3 server on a free loopback port, started and stopped by the test."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto_server did not start on {url}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture()
def s3_env(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ibet-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secrets.token_hex(16))
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    from pyarrow import fs as pafs

    fs = pafs.S3FileSystem(endpoint_override=s3_endpoint.split("://")[1], scheme="http", region="us-east-1",
                           access_key="ibet-test", secret_key="x", allow_bucket_creation=True)
    fs.create_dir(BUCKET)
    return s3_endpoint


def _home(root: Path, staging: Path, lake_uri: str | None) -> Settings:
    settings = init_home(root, {"lake_uri": lake_uri} if lake_uri else None)  # the home's own options file
    assert isinstance(settings.lake_store, ObjectLake) == bool(lake_uri)
    shutil.copytree(staging, settings.inbox, dirs_exist_ok=True)
    return settings


def _objects(store: ObjectLake) -> list[str]:
    from pyarrow import fs as pafs

    sel = pafs.FileSelector(store.base, recursive=True, allow_not_found=True)
    return sorted(i.path for i in store.fs.get_file_info(sel) if i.type == pafs.FileType.File)


def _tables(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [n for (n,) in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = 'main' AND table_name NOT LIKE 'meta_%' "
                                           "ORDER BY 1").fetchall()]
        return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY ALL').fetchall() for n in names}
    finally:
        con.close()


def test_object_storage_lake_builds_the_same_warehouse_as_a_local_one(s3_env, tmp_path, monkeypatch):
    monkeypatch.setenv("IBET_PSEUDONYM_KEY", secrets.token_hex(32))
    staging = tmp_path / "outbox"
    generate(staging, DAY, 2, 60, seed=21, dirty_rate=0.03)
    (staging / "_ground_truth.json").unlink(missing_ok=True)
    local = _home(tmp_path / "local", staging, None)
    remote = _home(tmp_path / "remote", staging, f"s3://{BUCKET}/prod")
    for settings in (local, remote):
        for day in (DAY, DAY + dt.timedelta(days=1)):
            for agency in AGENCIES:
                ingest_day(agency, day, settings=settings)
        result = build_all(settings)
        assert result.published, result

    store = remote.lake_store
    assert isinstance(store, ObjectLake)
    objects = _objects(store)
    parts = [o for o in objects if o.endswith(".parquet")]
    assert parts and all(Path(o).name.startswith("v-") for o in parts)
    assert any("/_ingest/" in o for o in objects)
    # nothing of the lake on the remote home's disk: only this host's lock
    assert not [p for p in remote.lake.rglob("*.parquet")]
    assert [p.relative_to(local.lake).as_posix() for p in sorted(local.lake.rglob("*.parquet"))
            if "_ingest" not in p.parts] == sorted(store.digests())
    # every audience's published file holds exactly what the local lake's holds
    for audience in ("ibet", "can", "usa", "evaluator"):
        assert _tables(published_path(remote, audience)) == _tables(published_path(local, audience)), audience

    # a re-ingest writes the same objects: nothing new, nothing removed
    ingest_day("rcmp", DAY, settings=remote)
    assert _objects(store) == objects


def test_partition_switch_is_the_manifest_and_old_versions_are_pruned(s3_env, tmp_path, monkeypatch):
    monkeypatch.setenv("IBET_PSEUDONYM_KEY", secrets.token_hex(32))
    versions = []
    for seed in (1, 2, 3):
        out = tmp_path / f"v{seed}"
        generate(out, DAY, 1, 40, seed=seed, dirty_rate=0.0, agencies_=["rcmp"])
        versions.append(next((out / "rcmp").iterdir()))
    settings = _home(tmp_path / "home", tmp_path / "v1", f"s3://{BUCKET}/switch")
    store = settings.lake_store
    assert ingest_file("rcmp", versions[0], settings=settings).ok
    before_state = store.partitions("events")
    before_rows = build_all(settings).published and _tables(published_path(settings, "ibet"))["fact_events"]
    assert before_rows

    # a corrected re-send whose ingest dies after writing its objects, before the switch
    def crash(self, source, key, manifest):
        raise OSError("connection lost before the manifest was written")
    with monkeypatch.context() as m:
        m.setattr(ObjectLake, "commit", crash)
        with pytest.raises(OSError):
            ingest_file("rcmp", versions[1], settings=settings)
    assert store.partitions("events") == before_state  # readers still see the old partition
    result = build_all(settings)
    assert _tables(published_path(settings, "ibet"))["fact_events"] == before_rows, result

    # the same re-send, this time switched: the new version is current, the old one kept one back
    assert ingest_file("rcmp", versions[1], settings=settings).ok
    assert store.partitions("events") != before_state
    build_all(settings)
    assert _tables(published_path(settings, "ibet"))["fact_events"] != before_rows
    rel = next(iter(store.partitions("events")))
    folder = f"{store.base}/{rel.rsplit('/', 1)[0]}/"
    assert len([o for o in _objects(store) if o.startswith(folder)]) == 2  # current + previous
    # a third version: the first is deleted
    assert ingest_file("rcmp", versions[2], settings=settings).ok
    kept = [o for o in _objects(store) if o.startswith(folder)]
    assert len(kept) == 2 and f"v-{store.digests()[rel][0]}.parquet" in {Path(o).name for o in kept}


def test_lake_uri_is_checked():
    with pytest.raises(LakeConfigError, match="credentials"):
        open_lake(Path("/nonexistent"), "s3://user:secret@bucket/prefix")
    with pytest.raises(LakeConfigError, match="unsupported scheme"):
        open_lake(Path("/nonexistent"), "gs://bucket/prefix")

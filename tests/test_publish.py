"""Publication under pressure: concurrent builds, readers of the whole set, crashes, altered files.

Nothing the gate did not pass is ever published; the four audience files switch as one set;
what a crashed build left behind is cleaned up and never published."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from foundation.settings import AUDIENCES
from tests.conftest import fresh_home
from tests.lakebuild import LakeBuilder
from warehouse.build import build_all, build_candidates
from warehouse.publish import (PublishError, build_dir, builds_root, clean_stale, current_build_id, current_dir,
                               publish_build, read_manifest, record_audit, write_manifest)

BIN = Path(sys.executable).parent


def _lake(s, days: int = 3, future: bool = False) -> None:
    lb = LakeBuilder(s)
    for agency in ("rcmp", "cbp", "cbsa"):
        for i in range(6):
            lb.event(agency, f"E{i}", f"2026-11-0{2 + i % days} 10:0{i}", region_code="PAC")
    if future:  # an event dated far ahead: the gate's events suite refuses it
        lb.event("uscg", "FUTURE", "2027-06-01 10:00", region_code="PAC")
    lb.write()


@pytest.fixture()
def small(tmp_path):
    with fresh_home(tmp_path) as s:
        _lake(s)
        yield s


def test_two_builds_at_once_never_publish_what_the_gate_did_not_pass(small):
    s = small
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("IBET_")}, "IBET_HOME": str(s.home),
           "IBET_PSEUDONYM_KEY": os.environ["IBET_PSEUDONYM_KEY"]}
    first = subprocess.Popen([str(BIN / "ibet"), "-q", "build"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not any(read_manifest(d).get("state") for d in builds_root(s).glob("*")):  # A is building
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.1)
    _lake(s, future=True)  # the lake changes under A: a row the gate must refuse
    second = subprocess.Popen([str(BIN / "ibet"), "-q", "build"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    out_a, err_a = first.communicate(timeout=600)
    out_b, err_b = second.communicate(timeout=600)
    assert first.returncode == 0, err_a  # A built and audited its own files, and published them
    assert second.returncode == 1 and "blocked by the quality gate" in err_b, err_b
    published = current_dir(s)
    for audience in AUDIENCES:
        con = duckdb.connect(str(published / f"{audience}.duckdb"), read_only=True)
        ids = {r[0] for r in con.execute("SELECT build_id FROM meta_build").fetchall()}
        future = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'fact_events'").fetchall()[0][0] \
            and con.execute("SELECT count(*) FROM fact_events WHERE source_id = 'FUTURE'").fetchall()[0][0]
        con.close()
        assert ids == {published.name} and not future, audience
    assert read_manifest(published)["gate_success"] is True
    rejected = list((s.warehouse / "rejected").iterdir())
    assert len(rejected) == 1 and rejected[0].name > published.name  # B, built after A, was blocked
    assert not list((s.warehouse / ".build").glob("*.work.duckdb*")) and not list(s.warehouse.glob("*.new"))


READER = """
import duckdb, json, os, sys, time
warehouse, seconds = sys.argv[1], float(sys.argv[2])
seen, stop = [], time.monotonic() + seconds
while time.monotonic() < stop:
    target = os.path.join(warehouse, os.readlink(os.path.join(warehouse, "current")))  # resolved once per set
    ids = set()
    for audience in ("ibet", "can", "usa", "evaluator"):
        con = duckdb.connect(os.path.join(target, audience + ".duckdb"), read_only=True)
        ids |= {r[0] for r in con.execute("SELECT build_id FROM meta_build").fetchall()}
        con.close()
    seen.append(sorted(ids))
print(json.dumps(seen))
"""


def test_a_reader_of_the_whole_set_never_sees_a_mixed_set(small):
    s = small
    assert build_all(s, gate=False).published
    reader = subprocess.Popen([sys.executable, "-c", READER, str(s.warehouse), "15"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    published = [current_build_id(s)]
    while reader.poll() is None and len(published) < 6:
        assert build_all(s, gate=False, force=True).published
        published.append(current_build_id(s))
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    sets = json.loads(out)
    assert sets and all(len(ids) == 1 for ids in sets), [ids for ids in sets if len(ids) != 1][:3]
    assert len({ids[0] for ids in sets}) >= 2, "the reader should have lived through a publication"
    assert {ids[0] for ids in sets} <= set(published)


def test_an_altered_or_stale_build_is_not_published(small):
    s = small
    first = build_all(s, gate=False)
    second = build_candidates(s, force=True)
    d = build_dir(s, second.build_id)
    with pytest.raises(PublishError, match="not an audited build"):
        publish_build(s, second.build_id)  # built but never audited
    record_audit(d, {"success": True})
    con = duckdb.connect(str(d / "can.duckdb"))
    con.execute("UPDATE fact_events SET region_code = 'UNK'")
    con.execute("CHECKPOINT")
    con.close()
    with pytest.raises(PublishError, match="can changed since the quality gate audited it"):
        publish_build(s, second.build_id)
    assert current_build_id(s) == first.build_id
    third = build_all(s, gate=False, force=True)
    record_audit(d, {"success": True})  # even re-audited, the older build does not replace the newer one
    with pytest.raises(PublishError, match="older than the published build"):
        publish_build(s, second.build_id)
    assert current_build_id(s) == third.build_id


def test_what_a_crashed_build_left_is_cleaned_and_never_published(small):
    s = small
    published = build_all(s, gate=False).build_id
    crashed = builds_root(s) / "20990101T000000.000000Z-dead"
    crashed.mkdir()
    (crashed / "ibet.duckdb").write_bytes(b"half a file")
    write_manifest(crashed, state="building", host=os.uname().nodename, pid=2 ** 22 + 7)  # no such process
    work = s.warehouse / ".build" / "x.evaluator.work.duckdb"
    work.write_bytes(b"event-level rows")
    (s.warehouse / ".build" / "x.evaluator.work.duckdb.wal").write_bytes(b"")
    removed = clean_stale(s)
    assert crashed.name in removed and not crashed.exists() and not work.exists()
    assert current_build_id(s) == published and (builds_root(s) / published).is_dir()


def test_every_output_is_need_to_know_whatever_the_umask(tmp_path):
    """Under a permissive umask (022), nothing ibet writes is readable by others: lake, quarantine,
    manifests, logs, staging and work files, every build, rejected builds, reports, the dictionary."""
    import datetime as dt

    from ibet.generator import generate
    from ibet.ingest import ingest_file
    from tests.conftest import inbox_files

    old = os.umask(0o022)
    try:
        with fresh_home(tmp_path) as s:
            generate(s.inbox, dt.date(2026, 11, 2), 1, 40, seed=2, dirty_rate=0.05)
            for agency, f in inbox_files(s.inbox):
                ingest_file(agency, f, settings=s)
            os.umask(0o022)  # whatever ensure() did, start the build permissive again
            assert build_all(s).published
            bad = build_candidates(s, force=True)
            (builds_root(s) / bad.build_id / "usa.duckdb").unlink()  # something to reject
            from warehouse.build import gate_and_publish
            gate_and_publish(s, bad)  # a set is published whole or not at all
            assert not bad.published and "incomplete build: usa missing" in bad.gate_message and bad.rejected_to
            checked = 0
            for p in [s.home, *s.home.rglob("*")]:
                if p.is_relative_to(s.inbox) or p.is_symlink():
                    continue  # partner drops are theirs; links have no modes of their own
                mode = p.stat().st_mode & 0o777
                assert mode & 0o007 == 0, (str(p), oct(mode))
                checked += 1
            assert checked > 100 and any((s.home / "quality").rglob("*.html")) and any(s.docs.glob("*.html"))
    finally:
        os.umask(old)


def test_metadata_does_not_reveal_what_an_audience_cannot_see(small):
    s = small
    build_all(s, gate=False)
    for audience in AUDIENCES:
        con = duckdb.connect(str(current_dir(s) / f"{audience}.duckdb"), read_only=True)
        cols = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'meta_build'")
                .fetchall()]
        con.close()
        assert cols == ["build_id", "audience", "caveats", "built_at", "suppression_threshold", "ibet_version"]


def test_history_is_written_only_into_existing_files(small, tmp_path):
    from warehouse.quality.gate import history_path, write_history_into

    history_path(small).parent.mkdir(parents=True, exist_ok=True)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"run_at": ["2026-11-23T00:00:00+00:00"], "audience": ["ibet"], "suite": ["events"],
                             "success": [True], "blocking": [True], "expectations": [1],
                             "failed_expectations": [0]}), history_path(small))
    missing = tmp_path / "nowhere" / "ibet.duckdb.new"
    write_history_into([missing], small)
    assert not missing.exists() and not missing.parent.exists()

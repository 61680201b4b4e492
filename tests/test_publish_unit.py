"""Publication rules on hand-made build directories (no warehouse build: seconds, so mutation testing can
run them for every mutant). Each rule is one way a reader could get a file the gate did not pass."""
from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from warehouse import publish
from warehouse.publish import PublishError, PublishedIntegrityError

AUDIENCES = ("ibet", "can", "usa", "evaluator")  # DOMAIN.md's four audiences, written out here


def _build(settings, content: bytes = b"x", audit: bool = True) -> tuple[str, Path]:
    bid, d = publish.start_build(settings)
    for a in AUDIENCES:
        (d / f"{a}.duckdb").write_bytes(content + a.encode())
    publish.write_manifest(d, state="built", fingerprint="fp-" + bid)
    if audit:
        publish.record_audit(d, {"success": True})
    return bid, d


def test_a_build_directory_starts_private_and_marked_as_building(home):
    bid, d = publish.start_build(home)
    m = publish.read_manifest(d)
    assert m["state"] == "building" and m["build_id"] == bid == d.name
    assert m["pid"] == os.getpid() and m["host"] == socket.gethostname()
    assert stat.S_IMODE(d.stat().st_mode) == 0o750
    assert stat.S_IMODE((d / publish.MANIFEST).stat().st_mode) == 0o640
    later, _ = publish.start_build(home)
    assert later > bid  # build ids sort by time
    import re

    assert re.fullmatch(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{4}", bid), bid  # UTC time to the microsecond, 4 hex


def test_the_audit_records_every_file_digest_and_size(home):
    _, d = _build(home, audit=False)
    m = publish.record_audit(d, {"success": True})
    assert m["state"] == "audited" and m["gate_success"] is True
    assert set(m["digests"]) == set(AUDIENCES) == set(m["sizes"])
    import hashlib

    for a in AUDIENCES:
        data = (d / f"{a}.duckdb").read_bytes()
        assert m["digests"][a] == hashlib.sha256(data).hexdigest() and m["sizes"][a] == len(data)


def test_only_an_audited_unaltered_build_is_published_and_the_set_switches_at_once(home):
    unaudited, _ = _build(home, audit=False)
    with pytest.raises(PublishError, match="not an audited build .state: built"):
        publish.publish_build(home, unaudited)
    with pytest.raises(PublishError, match="state: missing"):
        publish.publish_build(home, "20000101T000000.000000Z-0000")
    first, d1 = _build(home, b"first")
    paths = publish.publish_build(home, first)
    assert sorted(p.name for p in paths) == sorted(f"{a}.duckdb" for a in AUDIENCES)
    assert publish.current_build_id(home) == first and publish.current_dir(home) == d1
    assert all(publish.published_path(home, a).read_bytes() == b"first" + a.encode() for a in AUDIENCES)
    assert os.readlink(publish.published_path(home, "can")) == "current/can.duckdb"
    assert publish.read_manifest(d1)["state"] == "published"
    record = json.loads((home.warehouse / ".build" / "published.json").read_text())
    assert record["build_id"] == first and record["audiences"] == sorted(AUDIENCES)
    assert record["fingerprint"] == "fp-" + first and record["digests"] == publish.read_manifest(d1)["digests"]

    import hashlib

    altered, d2 = _build(home, b"second")
    audited = publish.read_manifest(d2)["digests"]["usa"]
    sides = set()
    for n in range(64):  # altered either way round: its digest sorting before or after the audited one
        data = b"changed after the audit " + bytes([n])
        side = hashlib.sha256(data).hexdigest() < audited
        if side in sides:
            continue
        sides.add(side)
        (d2 / "usa.duckdb").write_bytes(data)
        with pytest.raises(PublishError, match="usa changed since the quality gate audited it"):
            publish.publish_build(home, altered)
    assert sides == {True, False}
    added, d4 = _build(home, b"fourth")
    publish.write_manifest(d4, digests={a: v for a, v in publish.read_manifest(d4)["digests"].items()
                                        if a != "can"})  # can.duckdb appeared after the audit
    with pytest.raises(PublishError, match="can changed since the quality gate audited it"):
        publish.publish_build(home, added)
    extra, d3 = _build(home, b"third")
    (d3 / "evaluator.duckdb").unlink()
    with pytest.raises(PublishError, match="the set of files changed"):
        publish.publish_build(home, extra)
    assert publish.current_build_id(home) == first  # nothing of the refused builds is published
    assert publish.published_path(home, "usa").read_bytes() == b"firstusa"


def test_an_older_build_never_replaces_a_newer_one_except_by_rollback(home):
    old, _ = _build(home, b"old")
    new, _ = _build(home, b"new")
    publish.publish_build(home, new)
    with pytest.raises(PublishError, match="older than the published build"):
        publish.publish_build(home, old)
    assert publish.current_build_id(home) == new
    from foundation import audit

    assert list(audit.entries(home))[-1]["action"] == "publish"
    publish.publish_build(home, old, rollback=True)
    assert publish.current_build_id(home) == old
    last = list(audit.entries(home))[-1]
    assert last["action"] == "rollback" and last["build_id"] == old and last["previous"] == new
    assert publish.published_path(home, "ibet").read_bytes() == b"oldibet"
    publish.publish_build(home, new)  # a published build may be published again
    assert publish.current_build_id(home) == new
    publish.publish_build(home, new)  # the current one too: nothing changes
    assert publish.current_build_id(home) == new


def test_published_files_are_need_to_know(home):
    bid, d = _build(home)
    for a in AUDIENCES:
        os.chmod(d / f"{a}.duckdb", 0o644)
    publish.record_audit(d, {"success": True})
    publish.publish_build(home, bid)
    assert all(stat.S_IMODE((d / f"{a}.duckdb").stat().st_mode) == 0o640 for a in AUDIENCES)


def test_older_sets_are_kept_for_readers_and_rollback_then_pruned(home):
    ids = []
    for n in range(publish.KEEP_PUBLISHED + 3):
        bid, _ = _build(home, f"set{n}".encode())
        publish.publish_build(home, bid)
        ids.append(bid)
    kept = sorted(d.name for d in publish.builds_root(home).iterdir())
    assert kept == ids[-(publish.KEEP_PUBLISHED + 1):]  # the current set and the three before it
    assert publish.KEEP_PUBLISHED == 3
    waiting, _ = _build(home)  # audited, not published: pruning is for published sets only
    newest, _ = _build(home)
    publish.publish_build(home, newest)
    left = sorted(d.name for d in publish.builds_root(home).iterdir())
    assert left == sorted(ids[-3:] + [waiting, newest])
    listed = publish.kept_builds(home)
    assert [b["build_id"] for b in listed] == [newest, *reversed(ids[-3:])]  # published ones, newest first
    assert all(b["audiences"] == sorted(AUDIENCES) and b["fingerprint"] == "fp-" + b["build_id"] for b in listed)


def test_the_published_set_is_checked_against_its_audit(home):
    publish.verify_published(home)  # nothing published: nothing to check
    bid, d = _build(home, b"good" * 300)  # sizes past the small integers Python shares
    publish.publish_build(home, bid)
    publish.verify_published(home)
    publish.verify_published(home, full=False)
    (d / "can.duckdb").write_bytes(b"good" * 299 + b"gooX" + b"can")  # same size, other bytes
    publish.verify_published(home, full=False)  # sizes alone cannot see it
    with pytest.raises(PublishedIntegrityError, match="can.duckdb .build .*not the file the quality gate audited"):
        publish.verify_published(home)
    (d / "can.duckdb").write_bytes(b"longer than before")
    with pytest.raises(PublishedIntegrityError):
        publish.verify_published(home, full=False)
    (d / "can.duckdb").write_bytes(b"short")
    with pytest.raises(PublishedIntegrityError):
        publish.verify_published(home, full=False)
    # an altered file is caught whether its digest sorts before or after the audited one
    import hashlib

    audited = publish.read_manifest(d)["digests"]["can"]
    sides = set()
    for n in range(64):
        data = b"goo" + bytes([n]) + b"can"
        side = hashlib.sha256(data).hexdigest() < audited
        if side in sides:
            continue
        sides.add(side)
        (d / "can.duckdb").write_bytes(data)
        with pytest.raises(PublishedIntegrityError):
            publish.verify_published(home)
    assert sides == {True, False}


def test_latest_unpublished_is_the_newest_built_or_audited_build(home):
    assert publish.latest_unpublished(home) is None
    a, _ = _build(home, audit=False)
    b, _ = _build(home)
    c, dc = _build(home)
    publish.write_manifest(dc, state="building")
    assert publish.latest_unpublished(home) == b
    assert publish.latest_unpublished(home, ("built",)) == a
    publish.publish_build(home, b)
    assert publish.latest_unpublished(home) == a


def test_what_a_crash_or_an_abandoned_build_left_is_removed_and_the_rest_kept(home):
    day = 24 * 3600  # an unpublished build is abandoned after a day (written out, not read from the module)
    older_abandoned, do = _build(home)  # built before the published one, never published
    published, dp = _build(home)
    publish.publish_build(home, published)
    long_ago = time.time() - 3 * day
    os.utime(do, (long_ago, long_ago))
    os.utime(dp, (long_ago, long_ago))  # the published set is never removed, however old
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    fresh, df = _build(home)  # audited, recent, by a process that has ended since (the usual case): kept
    publish.write_manifest(df, pid=int(dead.stdout), host=socket.gethostname())
    crashed, dc = _build(home, audit=False)
    publish.write_manifest(dc, state="building", pid=int(dead.stdout), host=socket.gethostname())
    # a build in progress in another process, which a stray signal would stop (SIGHUP at its default)
    builder = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGHUP, "
                                "signal.SIG_DFL); print('up', flush=True); time.sleep(60)"], stdout=subprocess.PIPE,
                               text=True)
    assert builder.stdout.readline().strip() == "up"
    running, dr = _build(home, audit=False)
    publish.write_manifest(dr, state="building", pid=builder.pid, host=socket.gethostname())
    remote, dx = _build(home, audit=False)
    # another host's build, whose pid means nothing here (dead on this host): not ours to judge
    publish.write_manifest(dx, state="building", pid=int(dead.stdout), host="another-host")
    remote2, dy = _build(home, audit=False)  # host names sort either side of this one's
    publish.write_manifest(dy, state="building", pid=int(dead.stdout), host="zzzz-other-host")
    abandoned, da = _build(home)
    past = time.time() - day - 10
    os.utime(da, (past, past))
    recent_enough, dk = _build(home)
    almost = time.time() - day + 10
    os.utime(dk, (almost, almost))
    publish.write_manifest(dp, state=None)  # the published set, its manifest damaged: still never removed
    os.utime(dp, (long_ago, long_ago))
    work = home.warehouse / ".build" / "x.evaluator.work.duckdb"
    work.write_bytes(b"w")
    old_layout = home.warehouse / "ibet.duckdb.new"
    old_layout.write_bytes(b"n")
    try:
        removed = publish.clean_stale(home)
        assert builder.poll() is None  # looking at a live builder does not signal it
    finally:
        builder.kill()
        builder.wait()
    assert set(removed) == {older_abandoned, crashed, abandoned, work.name, old_layout.name}
    left = {d.name for d in publish.builds_root(home).iterdir()}
    assert left == {published, fresh, running, remote, remote2, recent_enough}


def test_a_blocked_build_is_moved_aside_with_the_gate_result(home):
    bid, _ = _build(home, audit=False)
    target = publish.reject_build(home, bid, {"success": False, "outcomes": ["x"]})
    assert target == home.warehouse / "rejected" / bid and not publish.build_dir(home, bid).exists()
    assert publish.read_manifest(target)["state"] == "rejected"
    assert json.loads((target / "gate.json").read_text())["success"] is False


def test_a_second_builder_waits_then_gets_a_clear_error(home):
    holder = ("import sys, time; from foundation.settings import get_settings; from warehouse.publish import "
              "build_lock\nwith build_lock(get_settings()):\n    print('held', flush=True); time.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True, env=os.environ)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(publish.BuildLockedError, match="another build has held .* for over 1 s"):
            with publish.build_lock(home, timeout=1):
                pass
    finally:
        proc.kill()
        proc.wait()
    with publish.build_lock(home, timeout=20):
        with publish.build_lock(home, timeout=1):  # re-entrant within a process
            pass


def test_the_published_set_lists_its_files_once_resolved(home):
    assert publish.published_set(home) == {}
    bid, d = _build(home)
    publish.write_manifest(d, tables={"ibet": {"fact_events": 7}})
    publish.record_audit(d, {"success": True})
    publish.publish_build(home, bid)
    got = publish.published_set(home)
    assert sorted(got) == sorted(AUDIENCES)
    assert got["ibet"].candidate == d / "ibet.duckdb" and got["ibet"].tables == {"fact_events": 7}
    assert got["can"].published == home.warehouse / "can.duckdb" and got["can"].tables == {}
    assert got["can"].seconds == 0.0  # a published file carries no build time of its own


def test_after_a_rollback_the_newer_sets_count_among_those_kept(home):
    """Rolled back to the second of five sets: the sets kept besides it are the three newest others; the
    oldest goes (newer sets are not exempt from pruning because they sort after the current one)."""
    ids = []
    for n in range(5):
        bid, _ = _build(home, f"s{n}".encode())
        publish.publish_build(home, bid)
        ids.append(bid)
    assert sorted(d.name for d in publish.builds_root(home).iterdir()) == ids[1:]
    publish.publish_build(home, ids[1], rollback=True)
    assert sorted(d.name for d in publish.builds_root(home).iterdir()) == ids[1:]  # 3 others kept
    extra, _ = _build(home, b"x")  # unpublished: not counted
    assert len(publish.kept_builds(home)) == 4


def test_folders_and_the_lock_are_need_to_know_even_under_a_loose_umask(tmp_path, monkeypatch):
    from foundation.settings import init_home

    monkeypatch.setenv("IBET_HOME", str(tmp_path / "home"))
    settings = init_home()
    previous = os.umask(0)
    try:
        bid, d = publish.start_build(settings)
        with publish.build_lock(settings, timeout=5):
            pass
    finally:
        os.umask(previous)
    assert stat.S_IMODE(publish.builds_root(settings).stat().st_mode) == 0o750
    assert stat.S_IMODE(d.stat().st_mode) == 0o750
    assert stat.S_IMODE((settings.warehouse / ".build").stat().st_mode) == 0o750
    assert stat.S_IMODE((settings.warehouse / ".build" / "build.lock").stat().st_mode) == 0o640

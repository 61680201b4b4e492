"""Integrity under attack: keys that are too open or too weak, two keys in one lake, whatever an
inbox may hold besides files, damaged lake and published files, and every version a partner sent."""
from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ibet.generator import generate
from ibet.ingest import ingest_file
from foundation.keys import MissingKeyError, create_key, fingerprint, load_key
from tests.conftest import fresh_home, inbox_files
from warehouse.build import build_all
from warehouse.staging import MixedKeysError

BIN = Path(sys.executable).parent
DAY = dt.date(2026, 11, 2)


def _ibet(home: Path, *args: str, key: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBET_")} | {"IBET_HOME": str(home),
                                                                                  "COLUMNS": "200"}
    if key:
        env["IBET_PSEUDONYM_KEY"] = key
    return subprocess.run([str(BIN / "ibet"), *args], env=env, capture_output=True, text=True, timeout=timeout)


# ------------------------------------------------------------------ keys
def test_a_key_file_others_can_read_or_a_weak_key_is_refused(home, monkeypatch):
    monkeypatch.delenv("IBET_PSEUDONYM_KEY")
    path = create_key(home)
    assert len(load_key(home)) == 32
    for mode in (0o644, 0o640, 0o606):
        os.chmod(path, mode)
        with pytest.raises(MissingKeyError, match=f"mode {mode:04o}.*chmod 600"):
            load_key(home)
    os.chmod(path, 0o600)
    for weak in ("00" * 32, "ab" * 32, "0123" * 16):
        path.write_text(weak)
        with pytest.raises(MissingKeyError, match="not a random key"):
            load_key(home)
    monkeypatch.setenv("IBET_PSEUDONYM_KEY", "11" * 40)
    with pytest.raises(MissingKeyError, match="not a random key"):
        load_key(home)
    # an error about a key never shows the key: short, not hex, or weak, its message names only where it is
    for bad in ("11" * 40, "c0ffee" * 3, "zz" + secrets.token_hex(31)):
        monkeypatch.setenv("IBET_PSEUDONYM_KEY", bad)
        with pytest.raises(MissingKeyError) as caught:
            load_key(home)
        assert bad not in str(caught.value) and bad[:12] not in str(caught.value)


def test_pseudonyms_of_two_keys_never_mix_in_a_build(home, monkeypatch):
    generate(home.inbox, DAY, 2, 30, seed=4, dirty_rate=0.0, agencies_=["rcmp"])
    first, second = sorted((home.inbox / "rcmp").glob("*.csv"))
    key_a, key_b = secrets.token_bytes(32), secrets.token_bytes(32)
    ingest_file("rcmp", first, settings=home, key=key_a)
    ingest_file("rcmp", second, settings=home, key=key_b)
    manifests = [json.loads(p.read_text()) for p in sorted((home.lake / "_ingest" / "rcmp").glob("*.json"))]
    assert [m["key_fingerprint"] for m in manifests] == [fingerprint(key_a), fingerprint(key_b)]
    assert key_a.hex() not in json.dumps(manifests) and fingerprint(key_a) != fingerprint(key_b)
    with pytest.raises(MixedKeysError, match="2 different keys.*extract_date=2026-11-02.*Re-ingest"):
        build_all(home, gate=False)
    ingest_file("rcmp", first, settings=home, key=key_b)  # re-ingested under the current key: builds again
    assert build_all(home, gate=False).published


# ------------------------------------------------------------------ the inbox
def test_only_regular_files_are_read_and_nothing_hangs(tmp_path):
    with fresh_home(tmp_path) as s:
        generate(s.inbox, DAY, 1, 20, seed=6, dirty_rate=0.0)
        valid = len(inbox_files(s.inbox))
        create_key(s)
        os.chmod(s.keys / "pseudonym.key", 0o600)
        cbp = s.inbox / "cbp"
        os.mkfifo(cbp / "CBP_NB_20261103.csv")  # a FIFO would block a reader forever
        (s.inbox / "rcmp" / "RCMP_IBET_OCC_20261103.csv").mkdir()  # a folder named like an extract
        (s.inbox / "uscg" / "USCG_MIR_20261103.xml").symlink_to(s.keys / "pseudonym.key")  # the key, by a link
        (s.inbox / "cbsa" / "cbsa_enforcement_2026-11-03.jsonl").symlink_to("/dev/zero")  # endless
        key = os.environ["IBET_PSEUDONYM_KEY"]
        done = _ibet(s.home, "ingest-inbox", "-f", "json", key=key, timeout=300)
        assert done.returncode == 4, done.stderr  # some files rejected, none hung, the others ingested
        results = {r["file"]: r for r in json.loads(done.stdout)}
        assert sum(r["status"] == "loaded" for r in results.values()) == valid
        reasons = {f: r["reason"] for f, r in results.items() if r["status"] == "rejected"}
        assert reasons == {
            "CBP_NB_20261103.csv": "CBP_NB_20261103.csv: a FIFO, not a regular file: not read",
            "RCMP_IBET_OCC_20261103.csv": "RCMP_IBET_OCC_20261103.csv: a folder, not a regular file: not read",
            "USCG_MIR_20261103.xml": "USCG_MIR_20261103.xml: a symbolic link, not a file: not followed, not read",
            "cbsa_enforcement_2026-11-03.jsonl":
                "cbsa_enforcement_2026-11-03.jsonl: a symbolic link, not a file: not followed, not read"}
        record = json.loads((s.quarantine / "uscg" / "rejected" / "USCG_MIR_20261103.xml.error.json").read_text())
        key_sha = __import__("hashlib").sha256((s.keys / "pseudonym.key").read_bytes()).hexdigest()
        assert record["checksum"] is None and key_sha not in json.dumps(record)


def test_a_file_over_the_size_limit_is_rejected_unread(home, monkeypatch):
    generate(home.inbox, DAY, 1, 400, seed=6, dirty_rate=0.0, agencies_=["rcmp"])
    f = next((home.inbox / "rcmp").iterdir())
    monkeypatch.setenv("IBET_MAX_FILE_MB", "0")
    with pytest.raises(Exception):  # 0 is refused as a setting: the limit must be positive
        type(home)(home.home).options  # noqa: B018
    monkeypatch.setenv("IBET_MAX_FILE_MB", "1")
    big = f.with_name("RCMP_IBET_OCC_20261104.csv")
    big.write_bytes(f.read_bytes() * (2**20 // f.stat().st_size + 1))
    r = ingest_file("rcmp", big, settings=type(home)(home.home))
    assert r.status == "rejected" and "over the 1 MB limit (IBET_MAX_FILE_MB)" in r.reason


# ------------------------------------------------------------------ damaged files
def _flip(path: Path, at: int, n: int = 64) -> None:
    st = path.stat()
    data = bytearray(path.read_bytes())
    for i in range(at, min(at + n, len(data) - 8)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same modification time


def test_damaged_lake_and_published_files_are_found_and_named(tmp_path):
    with fresh_home(tmp_path) as s:
        generate(s.inbox, DAY, 1, 60, seed=8, dirty_rate=0.0)
        for a, f in inbox_files(s.inbox):
            ingest_file(a, f, settings=s)
        assert build_all(s).published
        key = os.environ["IBET_PSEUDONYM_KEY"]
        lake_file = next((s.lake / "events" / "agency=cbp").rglob("*.parquet"))
        _flip(lake_file, lake_file.stat().st_size // 3)
        rel = lake_file.relative_to(s.lake).as_posix()
        quiet = _ibet(s.home, "build", key=key)
        assert quiet.returncode == 0 and "up to date" in quiet.stdout  # size and mtime kept: not seen cheaply
        for args in (["build", "--verify"], ["check"]):
            done = _ibet(s.home, *args, key=key)
            text = " ".join(done.stderr.split())
            assert done.returncode == 1 and f"lake file {rel} does not match" in text, (args, done.stderr)
            assert "ibet ingest cbp CBP_NB_20261102.csv" in text and "Traceback" not in done.stderr
        os.utime(lake_file)  # the mtime changes too: the plain build re-reads it and says which file
        done = _ibet(s.home, "build", key=key)
        assert done.returncode == 1 and f"lake file {rel} does not match" in " ".join(done.stderr.split())
        assert "Decode" not in done.stderr
        ingest_file("cbp", s.inbox / "cbp" / "CBP_NB_20261102.csv", settings=s)  # the recovery it names
        assert _ibet(s.home, "build", key=key).returncode == 0
        # a published file cut in half: check names it, build rebuilds instead of calling it up to date
        usa = (s.warehouse / "usa.duckdb").resolve()
        with open(usa, "r+b") as fh:
            fh.truncate(usa.stat().st_size // 2)
        done = _ibet(s.home, "check", key=key)
        assert done.returncode == 1 and "published file usa.duckdb" in done.stderr and "Traceback" not in done.stderr
        rebuilt = _ibet(s.home, "build", key=key)
        assert rebuilt.returncode == 0 and "up to date" not in rebuilt.stdout
        assert _ibet(s.home, "check", key=key).returncode == 0


# ------------------------------------------------------------------ re-sends
def test_every_version_sent_is_kept_and_a_record_keeps_its_first_arrival(home):
    generate(home.inbox, DAY, 1, 30, seed=9, dirty_rate=0.0, agencies_=["rcmp"])
    f = next((home.inbox / "rcmp").iterdir())
    lines = f.read_bytes().split(b"\r\n")
    header, body = lines[0], [x for x in lines[1:] if x]
    arrivals = []
    for version, (rows, hour) in enumerate(((body[:20], 6), (body[:25], 9), (body[5:30], 12))):
        f.write_bytes(b"\r\n".join([header, *rows]) + b"\r\n")
        t = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(hour), dt.timezone.utc).timestamp()
        os.utime(f, (t, t))
        arrivals.append(dt.datetime.fromtimestamp(t, dt.timezone.utc))
        assert ingest_file("rcmp", f, settings=home).ok, version
    m = json.loads(next((home.lake / "_ingest" / "rcmp").iterdir()).read_text())
    assert len(m["history"]) == 3 and len({h["checksum"] for h in m["history"]}) == 3
    assert [h["arrived_at"] for h in m["history"]] == [a.isoformat() for a in arrivals]
    assert m["replaced_checksum"] == m["history"][1]["checksum"]
    con = duckdb.connect()
    got = dict(con.execute(f"SELECT source_id, received_at FROM read_parquet('{home.lake}/events/*/*/*.parquet')")
               .fetchall())
    ids = {row.split(b",")[0].decode(): i for i, row in enumerate(body)}
    for sid, received in got.items():
        first = 0 if ids[sid] < 20 else 1 if ids[sid] < 25 else 2  # the version that first carried it
        assert received == arrivals[first], sid
    assert len(got) == 25


def test_the_lake_lock_shares_between_writers_and_excludes_the_snapshot_reader(tmp_path):
    """Ingest processes share the lake lock; the staging refresh waits for all of them, and a
    wait that outlasts its limit ends with a clear error instead of hanging."""
    from foundation.lake import LakeBusyError, lake_lock

    holder = ("import sys, time; from pathlib import Path; from foundation.lake import lake_lock\n"
              "with lake_lock(Path(sys.argv[1]), exclusive=sys.argv[2] == 'x'):\n"
              "    print('held', flush=True); time.sleep(30)\n")
    for mode, shared_ok in (("s", True), ("x", False)):
        proc = subprocess.Popen([sys.executable, "-c", holder, str(tmp_path), mode], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "held"
            if shared_ok:
                with lake_lock(tmp_path, exclusive=False, timeout=20):  # two writers at once
                    pass
            else:
                with pytest.raises(LakeBusyError, match="stayed locked for over 1 s"):
                    with lake_lock(tmp_path, exclusive=False, timeout=1):
                        pass
            with pytest.raises(LakeBusyError, match="exclusive"):
                with lake_lock(tmp_path, exclusive=True, timeout=1):  # a snapshot waits for every writer
                    pass
        finally:
            proc.kill()
            proc.wait()
    with lake_lock(tmp_path, exclusive=True, timeout=20):  # the holder's death released it
        pass
    assert stat.S_IMODE((tmp_path / "_ingest" / ".lock.db").stat().st_mode) == 0o640

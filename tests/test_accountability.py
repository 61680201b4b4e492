"""Accountability: the audit trail (and its tampering), ``ibet doctor`` on a good and a damaged home,
rollback, retention (``ibet purge``) and key rotation. One home with two published sets is built once;
each test works on its own copy of it (nothing shared is changed)."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from foundation import audit
from foundation.keys import create_key, fingerprint, load_key
from foundation.settings import get_settings
from ibet.generator import generate
from ibet.ingest import ingest_file
from tests.conftest import inbox_files

PLANTED = "Zyxwvutsky"  # a name an analyst types into a query: it must not reach the audit trail
DAY1, DAY2 = dt.date(2026, 11, 2), dt.date(2026, 11, 3)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A home with a key file, two days ingested and published as two sets (day 1, then days 1-2)."""
    from warehouse.build import build_all

    root = tmp_path_factory.mktemp("accountability")
    old = {k: os.environ.pop(k, None) for k in ("IBET_HOME", "IBET_PSEUDONYM_KEY", "IBET_PSEUDONYM_KEY_FILE")}
    os.environ["IBET_HOME"] = str(root / "home")
    try:
        from foundation.settings import init_home

        settings = init_home()
        create_key(settings)
        generate(settings.inbox, DAY1, 2, 40, seed=21, dirty_rate=0.0)
        first = [(a, f) for a, f in inbox_files(settings.inbox) if DAY2.strftime("%Y%m%d") not in f.name
                 and DAY2.isoformat() not in f.name]
        for a, f in first:
            assert ingest_file(a, f, settings=settings).ok
        one = build_all(settings, force=True)
        for a, f in inbox_files(settings.inbox):
            if (a, f) not in first:
                assert ingest_file(a, f, settings=settings).ok
        two = build_all(settings, force=True)
        assert one.published and two.published and one.build_id < two.build_id
        yield {"home": settings.home, "sets": (one.build_id, two.build_id)}
    finally:
        for k, v in old.items():
            os.environ.pop(k, None)
            if v is not None:
                os.environ[k] = v


@pytest.fixture()
def home_copy(built, tmp_path, monkeypatch):
    """This test's own copy of the built home (symlinks kept: the published set is one)."""
    target = tmp_path / "home"
    shutil.copytree(built["home"], target, symlinks=True)
    for k in ("IBET_PSEUDONYM_KEY", "IBET_PSEUDONYM_KEY_FILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("IBET_HOME", str(target))
    return get_settings(target)


def _ibet(*args: str, env_home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBET_PSEUDONYM")}
    return subprocess.run([sys.executable, "-m", "ibet.cli", *args], capture_output=True, text=True,
                          env={**env, "IBET_HOME": str(env_home), "COLUMNS": "200"}, timeout=300)


def _lines(settings) -> list[str]:
    return (settings.home / "audit" / "audit.jsonl").read_text().splitlines()


def test_every_ingest_build_gate_publish_and_query_is_audited_without_values_or_key(home_copy):
    from warehouse.access import query

    result = query(home_copy, "ibet", f"SELECT count(*) FROM fact_events WHERE source_id = '{PLANTED}' OR 1 = 2")
    assert result.total == 1
    entries = list(audit.entries(home_copy))
    actions = [e["action"] for e in entries]
    assert actions.count("publish") == 2 and actions.count("gate") == 2 and actions.count("build") == 2
    assert actions.count("ingest") == len(inbox_files(home_copy.inbox)) and actions[0] == "key_created"
    ingest = next(e for e in entries if e["action"] == "ingest")
    assert len(ingest["checksum"]) == 64 and ingest["rows_read"] == ingest["rows_loaded"] + ingest["rows_quarantined"]
    publish = [e for e in entries if e["action"] == "publish"][-1]
    assert set(publish["digests"]) == {"ibet", "can", "usa", "evaluator"} and publish["lake_state"]
    q = entries[-1]
    assert q["action"] == "query" and q["audience"] == "ibet" and q["rows"] == 1 and q["outcome"] == "ok"
    assert q["statement"] == "SELECT count(*) FROM fact_events WHERE source_id = ? OR ? = ?"
    assert q["user"] and q["build_id"] == publish["build_id"]
    key = load_key(home_copy)
    text = (home_copy.home / "audit" / "audit.jsonl").read_text()
    assert PLANTED not in text and key.hex() not in text and key.hex().upper() not in text
    assert audit.verify(home_copy).ok and audit.verify(home_copy).entries == len(entries)
    assert stat.S_IMODE((home_copy.home / "audit" / "audit.jsonl").stat().st_mode) == 0o640
    with pytest.raises(duckdb.Error):
        query(home_copy, "ibet", "SELECT * FROM no_such_table")
    assert list(audit.entries(home_copy))[-1]["outcome"] == "failed"  # a failed query is audited too


def test_a_changed_removed_or_cut_entry_breaks_the_chain_and_the_cli_says_where(home_copy):
    good = _lines(home_copy)
    path = home_copy.home / "audit" / "audit.jsonl"
    ok = _ibet("audit", "--verify", env_home=home_copy.home)
    assert ok.returncode == 0 and f"{len(good):,} entries" in ok.stdout
    tampered = json.loads(good[3])
    tampered["rows_loaded"] = tampered.get("rows_loaded", 0) + 1  # someone hides a record
    cases = {
        "edited": (good[:3] + [json.dumps(tampered, sort_keys=True, separators=(",", ":"))] + good[4:],
                   "entry 4 .* does not match its hash"),
        "removed": (good[:2] + good[3:], "entry number 4, expected 3"),
        "reordered": (good[:2] + [good[3], good[2]] + good[4:], "entry number 4, expected 3"),
        "cut off the end": (good[:-2], f"ends at entry {len(good) - 2} but entry {len(good)} was written"),
    }
    for name, (lines, words) in cases.items():
        path.write_text("\n".join(lines) + "\n")
        v = audit.verify(home_copy)
        assert not v.ok, name
        import re

        assert re.search(words, v.problem), (name, v.problem)
        cli = _ibet("audit", "--verify", env_home=home_copy.home)
        assert cli.returncode == 1 and "audit trail broken" in cli.stdout, name
    # recomputing one entry's hash does not help: the next entry still points at the old one
    forged = dict(tampered, hash=audit.entry_hash(tampered))
    path.write_text("\n".join(good[:3] + [json.dumps(forged)] + good[4:]) + "\n")
    assert "does not follow entry 4" in audit.verify(home_copy).problem
    path.write_text("\n".join(good) + "\n")
    assert audit.verify(home_copy).ok


def test_audit_listing_filters_by_time_and_action(home_copy):
    every = json.loads(_ibet("audit", "--format", "json", env_home=home_copy.home).stdout)
    assert [e["seq"] for e in every] == list(range(1, len(every) + 1))
    later = every[-3]["at"]
    since = json.loads(_ibet("audit", "--since", later, "--format", "json", env_home=home_copy.home).stdout)
    assert [e["seq"] for e in since] == [e["seq"] for e in every if e["at"] >= later] and len(since) >= 3
    pubs = json.loads(_ibet("audit", "--action", "publish", "--format", "json", env_home=home_copy.home).stdout)
    assert len(pubs) == 2 and {e["action"] for e in pubs} == {"publish"}
    bad = _ibet("audit", "--since", "yesterday", env_home=home_copy.home)
    assert bad.returncode == 2 and "not an ISO date" in bad.stderr


def test_doctor_passes_a_good_home_and_names_each_damage_with_its_fix(home_copy):
    good = _ibet("doctor", "--format", "json", env_home=home_copy.home)
    findings = json.loads(good.stdout)
    assert good.returncode == 0, findings
    assert {f["check"] for f in findings} >= {"home", "modes", "key", "disk", "published", "audit", "retention"}
    assert all(f["status"] in ("ok", "warning") for f in findings)
    # damage it five ways
    lake_file = next(home_copy.lake.rglob("*.parquet"))
    os.chmod(lake_file, 0o644)  # world-readable
    os.chmod(home_copy.keys / "pseudonym.key", 0o644)  # a readable key
    from warehouse.publish import current_dir

    published = current_dir(home_copy) / "usa.duckdb"
    with open(published, "r+b") as fh:  # altered after its audit, same size
        fh.seek(200)
        fh.write(b"\x00\x01\x02\x03")
    log = home_copy.home / "audit" / "audit.jsonl"
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    bad = _ibet("doctor", "--format", "json", env_home=home_copy.home)
    assert bad.returncode == 1
    problems = {f["check"]: f for f in json.loads(bad.stdout) if f["status"] == "problem"}
    assert set(problems) == {"modes", "key", "published", "audit"}, problems
    assert str(lake_file.relative_to(home_copy.home)) in problems["modes"]["detail"]
    assert "chmod" in problems["modes"]["fix"]
    assert "chmod 600" in problems["key"]["detail"]
    assert "usa.duckdb" in problems["published"]["detail"] and "rollback" in problems["published"]["fix"]
    assert "entry number" in problems["audit"]["detail"]
    table = _ibet("doctor", env_home=home_copy.home)
    assert table.returncode == 1 and "problem" in table.stdout


def test_rollback_switches_to_a_kept_set_atomically_and_is_audited(home_copy, built):
    from warehouse.publish import current_build_id

    one, two = built["sets"]
    listed = json.loads(_ibet("publish", "--list", "--format", "json", env_home=home_copy.home).stdout)
    assert listed["current"] == two and [b["build_id"] for b in listed["kept"]] == [two, one]
    back = _ibet("publish", "--rollback", "previous", env_home=home_copy.home)
    assert back.returncode == 0 and f"build {one} is published (was {two})" in back.stdout
    assert current_build_id(home_copy) == one
    con = duckdb.connect(str(home_copy.warehouse / "ibet.duckdb"), read_only=True)
    days = con.execute("SELECT count(DISTINCT extract_date) FROM fact_events").fetchall()[0][0]
    con.close()
    assert days == 1  # the first set: day 1 only
    last = list(audit.entries(home_copy))[-1]
    assert last["action"] == "rollback" and last["build_id"] == one and last["previous"] == two
    forward = _ibet("publish", "--rollback", two, env_home=home_copy.home)
    assert forward.returncode == 0 and current_build_id(home_copy) == two
    unknown = _ibet("publish", "--rollback", "20000101T000000.000000Z-dead", env_home=home_copy.home)
    assert unknown.returncode == 5 and "not a kept published build" in unknown.stderr


def test_purge_forgets_what_is_past_retention_and_rebuilds_without_old_partitions(home_copy, monkeypatch):
    from ibet.retention import purge

    now = dt.datetime.now(dt.timezone.utc)
    raw = sorted(f for _, f in inbox_files(home_copy.inbox))  # partner files (not the generator's ground truth)
    waiting = home_copy.inbox / "rcmp" / "RCMP_IBET_OCC_20261105.csv"  # never ingested: still needed
    waiting.write_bytes(raw[0].read_bytes() if raw[0].suffix == ".csv" else b"x")
    rejected_build = home_copy.warehouse / "rejected" / "20261101T000000.000000Z-beef"
    rejected_build.mkdir(parents=True)
    old = (now - dt.timedelta(days=40)).timestamp()
    os.utime(rejected_build, (old, old))
    # a week later: raw files ingested over 7 days ago go; nothing else is old enough
    week = purge(home_copy, now + dt.timedelta(days=8))
    assert sorted(week.deleted) == sorted([p.relative_to(home_copy.home).as_posix() for p in raw]
                                          + [rejected_build.relative_to(home_copy.home).as_posix() + "/"])
    assert waiting.exists() and not any(p.exists() for p in raw) and week.lake_partitions == []
    entry = list(audit.entries(home_copy))[-1]
    assert entry["action"] == "purge" and entry["deleted"] == week.deleted
    assert entry["policy"]["retention_inbox_days"] == 7
    # the lake keeps 10 years; a shorter retention drops day 1, and the published files follow at once
    monkeypatch.setenv("IBET_RETENTION_LAKE_DAYS", str((now.date() - DAY1).days - 1 + 0))
    home_copy = get_settings(home_copy.home)
    dry = purge(home_copy, now, dry_run=True)
    assert dry.lake_partitions and all(p.endswith(DAY1.isoformat()) for p in dry.lake_partitions)
    assert {p.split("/")[0] for p in dry.lake_partitions} == {"rcmp", "cbsa", "cbp", "ice", "uscg"}  # not program
    assert all((home_copy.home / p).exists() for p in dry.deleted)  # a dry run deletes nothing
    lake = purge(home_copy, now)
    assert lake.rebuilt and lake.lake_partitions == dry.lake_partitions and not lake.build_error
    left = [p for p in home_copy.lake.rglob(f"agency=*/extract_date={DAY1.isoformat()}/*")
            if "agency=program" not in p.as_posix()]
    assert left == [] and list(home_copy.lake.rglob("agency=program/*"))  # program history kept
    for audience in ("ibet", "can", "usa"):
        con = duckdb.connect(str(home_copy.warehouse / f"{audience}.duckdb"), read_only=True)
        first, n = con.execute("SELECT min(extract_date), count(*) FROM fact_events").fetchall()[0]
        con.close()
        assert n > 0 and first == DAY2, audience  # the published files forgot day 1 with the lake
    assert audit.verify(home_copy).ok


def test_key_rotation_retires_the_key_sealed_rekeys_the_inbox_and_never_shows_the_key(home_copy):
    old_key = load_key(home_copy)
    before = {p.relative_to(home_copy.lake): p.read_bytes() for p in home_copy.lake.rglob("subjects/**/*.parquet")}
    rotated = _ibet("keygen", "--rotate", env_home=home_copy.home)
    assert rotated.returncode == 0, rotated.stderr
    new_key = load_key(home_copy)
    old_id, new_id = fingerprint(old_key), fingerprint(new_key)
    assert old_id != new_id and f"key {old_id} retired" in rotated.stdout
    sealed = home_copy.keys / "retired" / f"{old_id}.key"
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o400 and bytes.fromhex(sealed.read_text().strip()) == old_key
    assert "every lake partition is under the new key" in rotated.stdout
    manifests = [json.loads(p.read_text()) for p in home_copy.lake.glob("_ingest/*/*.json")]
    assert manifests and {m["key_fingerprint"] for m in manifests} == {new_id}
    after = {p.relative_to(home_copy.lake): p.read_bytes() for p in home_copy.lake.rglob("subjects/**/*.parquet")}
    assert before and after.keys() == before.keys() and after != before  # pseudonyms re-keyed
    build = _ibet("build", "--full", env_home=home_copy.home)
    assert build.returncode == 0, build.stderr
    rotation = [e for e in audit.entries(home_copy) if e["action"] == "key_rotated"]
    assert rotation == [dict(rotation[0], key_id=new_id, retired_key_id=old_id)]
    # the key (either one) is in no output: logs, audit, lake, warehouse, command output
    forms = {k.hex() for k in (old_key, new_key)} | {k.hex().upper() for k in (old_key, new_key)}
    for p in home_copy.home.rglob("*"):
        if p.is_file() and "keys" not in p.relative_to(home_copy.home).parts:
            data = p.read_bytes()
            assert not any(f.encode() in data for f in forms), p
    assert not any(f in rotated.stdout + rotated.stderr + build.stdout + build.stderr for f in forms)
    # a key from the environment is rotated where it is kept, not here
    env_key = _ibet("keygen", "--rotate", env_home=home_copy.home)
    assert env_key.returncode == 0  # a file key again: rotating twice works
    with_env = subprocess.run([sys.executable, "-m", "ibet.cli", "keygen", "--rotate"], capture_output=True, text=True,
                              env={**os.environ, "IBET_HOME": str(home_copy.home), "IBET_PSEUDONYM_KEY": os.urandom(32).hex()})
    assert with_env.returncode == 3 and "rotate it in the secret store" in with_env.stderr


def test_synthetic_partner_files_are_written_need_to_know_whatever_the_umask(tmp_path):
    """They stand for raw personal data: `ibet generate` under a loose umask still writes 0750/0640."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBET_")}
    env.update(IBET_HOME=str(home), COLUMNS="200")
    subprocess.run([sys.executable, "-m", "ibet.cli", "init", str(home)], env=env, check=True, capture_output=True,
                   preexec_fn=lambda: os.umask(0o022))
    done = subprocess.run([sys.executable, "-m", "ibet.cli", "generate", "--out", str(home / "inbox"), "--days", "1",
                           "--rows-per-day", "20"], env=env, capture_output=True, text=True,
                          preexec_fn=lambda: os.umask(0o022))
    assert done.returncode == 0, done.stderr
    written = [p for p in (home / "inbox").rglob("*")]
    assert len(written) > 6
    assert all(stat.S_IMODE(p.stat().st_mode) == (0o750 if p.is_dir() else 0o640) for p in written)
    doctor = json.loads(_ibet("doctor", "--format", "json", env_home=home).stdout)
    assert next(f for f in doctor if f["check"] == "modes")["status"] == "ok"

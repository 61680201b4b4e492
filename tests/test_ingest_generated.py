"""On generated data with known identifiers: conservation, privacy, linkage, idempotency."""
from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ibet.ingest import ingest_file
from foundation.registry import source_for
from tests.conftest import inbox_files
from tests.leakscan import leaks, needles, text_of


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_file_is_loaded(ingested):
    assert ingested["results"], "nothing was ingested"
    assert all(r.ok for r in ingested["results"]), [r.reason for r in ingested["results"] if not r.ok]
    assert {r.agency for r in ingested["results"]} == {"rcmp", "cbsa", "cbp", "ice", "uscg", "program"}


def test_conservation_per_file_and_level(ingested):
    """rows read = loaded + quarantined at every level, and the quarantine matches the injected defects."""
    by_file = {f["file"]: f for f in ingested["truth"]["files"]}
    checked = 0
    for r in ingested["results"]:
        truth = by_file[r.file]
        for level, counts in r.levels.items():
            # every count against what the generator wrote and corrupted, not against each other
            assert counts["read"] == truth["rows"][level], (r.file, level)
            assert counts["quarantined"] == truth["expected_quarantined"][level], (r.file, level, counts)
            assert counts["loaded"] == truth["rows"][level] - truth["expected_quarantined"][level], (r.file, level)
            checked += 1
    assert checked > 20


def test_lake_and_quarantine_hold_exactly_the_counted_rows(ingested):
    s = ingested["settings"]
    con = duckdb.connect()
    lake_events = dict(con.sql(
        f"SELECT agency, count(*) FROM read_parquet('{s.lake}/events/*/*/*.parquet', hive_partitioning=true) "
        "GROUP BY 1").fetchall())
    quarantined = dict(con.sql(
        f"SELECT level, count(*) FROM read_parquet('{s.quarantine}/*/*/*.parquet') GROUP BY 1").fetchall())
    # the files on disk against the ground truth: nothing lost, nothing counted twice
    truth = [f for f in ingested["truth"]["files"] if f["agency"] != "program"]
    top = {"rcmp": "occurrences", "cbsa": "events", "cbp": "events", "ice": "cases", "uscg": "interdictions"}
    for agency, level in top.items():
        sent = [f for f in truth if f["agency"] == agency]
        assert lake_events[agency] == sum(f["rows"][level] - f["expected_quarantined"][level] for f in sent)
    assert sum(quarantined.values()) == sum(n for f in truth for n in f["expected_quarantined"].values())
    subjects = con.sql(f"SELECT count(*) FROM read_parquet('{s.lake}/subjects/agency=cbsa/*/*.parquet')").fetchall()[0]
    assert subjects[0] == sum(f["rows"]["persons"] - f["expected_quarantined"]["persons"] for f in truth
                              if f["agency"] == "cbsa")


def test_quarantine_names_column_check_and_reason(ingested):
    s = ingested["settings"]
    q = pl.read_parquet(s.quarantine / "cbp" / "*" / "*.parquet")
    assert q.height > 0
    assert q["reason"].null_count() == 0 and q["checks"].null_count() == 0
    reasons = " ".join(q["reason"].to_list())
    for expected in ("sector: required value missing", "event_no: duplicate id", "event_type: not one of",
                     "lat_dms:", "event_date:"):
        assert expected in reasons


def test_no_raw_identifier_or_free_text_in_any_output(ingested):
    s = ingested["settings"]
    ns = needles(ingested["truth"])
    # the needles do occur in the inbox (the scan can find them) ...
    inbox_hits = sum(1 for f in (s.inbox / "rcmp").iterdir() for n in list(ns)[:400] if n in text_of(f))
    assert inbox_hits > 0
    # ... and nowhere downstream
    for root in (s.lake, s.quarantine, s.logs):
        assert list(root.rglob("*")), f"{root} is empty"
        assert leaks(root, ingested["truth"]) == []


def test_pseudonyms_are_64_hex(ingested):
    s = ingested["settings"]
    con = duckdb.connect()
    for table, cols in {"subjects": ["person_key", "document_key", "anumber_key"],
                        "conveyances": ["plate_key", "vessel_key"]}.items():
        for c in cols:
            bad = con.sql(f"SELECT count(*) FROM read_parquet('{s.lake}/{table}/*/*/*.parquet') "
                          f"WHERE {c} IS NOT NULL AND NOT regexp_full_match({c}, '[0-9a-f]{{64}}')").fetchall()[0][0]
            assert bad == 0, (table, c)


def test_linkage_one_pseudonym_per_person_across_agencies(ingested):
    s = ingested["settings"]
    subjects = pl.read_parquet(s.lake / "subjects" / "*" / "*" / "*.parquet", hive_partitioning=True)
    subjects = subjects.with_columns(pl.col("event_uid").str.split_exact(":", 1).struct.field("field_1").alias("sid"))
    keys: dict[int, set[str]] = defaultdict(set)
    agencies: dict[int, set[str]] = defaultdict(set)
    # ICE re-sends a case on every day it is touched: the extract date is part of the key
    lookup = {(a, str(d), sid, seq): k for a, d, sid, seq, k in subjects.select(
        pl.col("agency").cast(pl.Utf8), "extract_date", "sid", "subject_seq", "person_key").iter_rows()}
    for f in ingested["truth"]["files"]:
        day = source_for(f["agency"], f["file"])[1]
        for sid, seq, pid in f.get("subjects", []):
            k = lookup.get((f["agency"], day, sid, seq))
            assert k is not None, (f["file"], sid, seq)
            keys[pid].add(k)
            agencies[pid].add(f["agency"])
    recurring = [p for p, a in agencies.items() if len(a) >= 2]
    assert len(recurring) >= 20, "the generator should make persons recur across agencies"
    assert all(len(keys[p]) == 1 for p in recurring), "a recurring person got several pseudonyms"
    owners = defaultdict(set)
    for p, ks in keys.items():
        for k in ks:
            owners[k].add(p)
    assert all(len(v) == 1 for v in owners.values()), "two persons share a pseudonym"


def test_reingest_is_byte_identical(ingested):
    s = ingested["settings"]
    before = _snapshot(s.lake), _snapshot(s.quarantine)
    for agency, f in inbox_files(s.inbox):
        assert ingest_file(agency, f, settings=s).ok
    assert (_snapshot(s.lake), _snapshot(s.quarantine)) == before


@pytest.mark.parametrize("agency", ["rcmp"])
def test_corrected_resend_replaces_partition(home, agency):
    import datetime as dt

    from ibet.generator import generate

    generate(home.inbox, dt.date(2026, 11, 5), 1, 60, seed=3, dirty_rate=0.0, agencies_=[agency])
    f = next((home.inbox / agency).iterdir())
    first = ingest_file(agency, f, settings=home)
    lines = f.read_bytes().split(b"\r\n")
    f.write_bytes(b"\r\n".join(lines[:1] + lines[1:31]) + b"\r\n")  # re-sent with 30 fewer records
    second = ingest_file(agency, f, settings=home)
    assert first.ok and second.ok and second.rows_read < first.rows_read
    n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{home.lake}/events/*/*/*.parquet')").fetchall()[0][0]
    assert n == second.rows_loaded
    import json

    manifest = json.loads(next((home.lake / "_ingest" / agency).iterdir()).read_text())
    assert manifest["checksum"] == second.checksum and manifest["replaced_checksum"] == first.checksum

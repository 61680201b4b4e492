"""Push announcements: which messages are accepted, and a file is never ingested twice (push, then the daily
run). The push through Redis, the AssetWatcher and the real triggerer runs in tests/test_airflow_e2e.py."""
from __future__ import annotations

import datetime as dt
import json
import shutil

from ibet.generator import generate
from ibet.orchestration.tasks import ingest_announced, ingest_day, parse_announcements

DAY = dt.date(2026, 11, 2)


def _event(data) -> dict:
    return {"from_trigger": True, "payload": {"type": "message", "channel": "ibet.extracts", "data": data}}


def test_announcements_are_validated_and_bad_ones_dropped_without_their_content():
    good = {"agency": "cbp", "file": "CBP_NB_20261102.csv", "extract_date": "2026-11-02"}
    secret = "SMITH-JOHN-1980"  # whatever a bad message carries is never repeated
    extras = [
        _event(json.dumps(good)),
        _event(json.dumps(good)),  # announced twice: one announcement
        _event("not json {" + secret),
        _event(json.dumps({"agency": "nsa", "file": "x.csv", "extract_date": "2026-11-02", "n": secret})),
        _event(json.dumps({"agency": "cbp", "file": f"{secret}.csv", "extract_date": "2026-11-02"})),
        _event(json.dumps({"agency": "cbp", "file": "CBP_NB_20261103.csv", "extract_date": "2026-11-02"})),
        _event(json.dumps({"agency": "program", "file": "finance_2026-27.csv", "extract_date": "2026-11-02"})),
        _event(json.dumps(["cbp"])), None, {"payload": "text"},
    ]
    accepted, dropped = parse_announcements(extras)
    assert accepted == {"cbp": [{"file": "CBP_NB_20261102.csv", "extract_date": "2026-11-02"}]}
    assert len(dropped) == 8 and not [d for d in dropped if secret in d]
    assert any("unknown agency" in d for d in dropped) and any("not its daily extract" in d for d in dropped)


def test_a_pushed_file_is_not_ingested_again_by_the_daily_run(home, tmp_path):
    generate(tmp_path / "out", DAY, 1, 50, seed=4, dirty_rate=0.02, agencies_=["cbp"])
    shutil.copytree(tmp_path / "out" / "cbp", home.inbox / "cbp")
    name = "CBP_NB_20261102.csv"
    audit = home.home / "audit" / "audit.jsonl"

    def ingests() -> int:
        return sum(1 for x in audit.read_text().splitlines() if json.loads(x)["action"] == "ingest")

    first = ingest_announced("cbp", [{"file": name, "extract_date": DAY.isoformat()}], None, settings=home)
    assert first[0]["already_ingested"] == [] and first[0]["rows_read"] == 50
    assert ingests() == 1
    # the daily run (and the same announcement again) find the same bytes in the lake: not ingested twice
    daily = ingest_day("cbp", DAY, home, skip_ingested=True)
    again = ingest_announced("cbp", [{"file": name, "extract_date": DAY.isoformat()}], None, settings=home)
    assert daily["already_ingested"] == [name] and again[0]["already_ingested"] == [name]
    assert (daily["rows_read"], daily["rows_loaded"], daily["rows_quarantined"]) == (
        first[0]["rows_read"], first[0]["rows_loaded"], first[0]["rows_quarantined"])
    assert ingests() == 1
    # a corrected re-send (other bytes) is ingested; a backfill (no skipping) re-ingests
    (home.inbox / "cbp" / name).write_bytes((home.inbox / "cbp" / name).read_bytes().replace(b"\n", b"\r\n"))
    assert ingest_day("cbp", DAY, home, skip_ingested=True)["already_ingested"] == []
    assert ingest_day("cbp", DAY, home)["already_ingested"] == []
    assert ingests() == 3

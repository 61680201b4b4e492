"""Every malformed-file case gets a clear one-line error, an error record, exit 4, and nothing written; a bad JSON line costs its record only."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ibet.generator import generate
from ibet.ingest import ingest_file


@pytest.fixture()
def good(home):
    generate(home.inbox, dt.date(2026, 11, 3), 1, 40, seed=5, dirty_rate=0.0)
    return home


def _cases(inbox: Path) -> dict[str, tuple[str, str, bytes, str]]:
    rcmp = (inbox / "rcmp" / "RCMP_IBET_OCC_20261103.csv").read_bytes()
    cbp = (inbox / "cbp" / "CBP_NB_20261103.csv").read_bytes()
    cbsa = (inbox / "cbsa" / "cbsa_enforcement_2026-11-03.jsonl").read_bytes()
    ice = (inbox / "ice" / "ice_hsi_cases_20261103.parquet").read_bytes()
    uscg = (inbox / "uscg" / "USCG_MIR_20261103.xml").read_bytes()
    header, _, rest = rcmp.partition(b"\r\n")
    return {
        # name: (agency, file name, content, words the reason must contain)
        "wrong format": ("rcmp", "RCMP_IBET_OCC_20261103.csv", cbsa, "missing required columns"),
        "json as cbp": ("cbp", "CBP_NB_20261103.csv", b'{"a": 1}\n', "not '|'-delimited"),
        "bad encoding": ("rcmp", "RCMP_IBET_OCC_20261103.csv",
                         rcmp.replace("é".encode(), b"\xe9") if "é".encode() in rcmp else rcmp + b"\xe9\xff\r\n",
                         "UTF-8"),
        "missing columns": ("rcmp", "RCMP_IBET_OCC_20261103.csv",
                            header.replace(b",caveat", b"") + b"\r\n" + rest, "missing required columns: caveat"),
        "truncated csv": ("cbp", "CBP_NB_20261103.csv", cbp[: len(cbp) // 2], "truncated"),
        "truncated jsonl": ("cbsa", "cbsa_enforcement_2026-11-03.jsonl", cbsa[: len(cbsa) // 2], "truncated"),
        "invalid json": ("cbsa", "cbsa_enforcement_2026-11-03.jsonl", b"{not json}\n", "JSON Lines"),
        "truncated parquet": ("ice", "ice_hsi_cases_20261103.parquet", ice[: len(ice) // 2], "Parquet"),
        "truncated xml": ("uscg", "USCG_MIR_20261103.xml", uscg[: len(uscg) // 2], "truncated"),
        "wrong root": ("uscg", "USCG_MIR_20261103.xml", b"<Other/>\n", "InterdictionReport"),
        "empty": ("rcmp", "RCMP_IBET_OCC_20261103.csv", b"", "empty"),
    }


CASES = ["wrong format", "json as cbp", "bad encoding", "missing columns", "truncated csv", "truncated jsonl",
         "invalid json", "truncated parquet", "truncated xml", "wrong root", "empty"]


@pytest.mark.parametrize("case", CASES)
def test_rejected_whole_with_clear_reason(good, case):
    agency, name, content, words = _cases(good.inbox)[case]
    bad = good.home / "bad" / agency / name
    bad.parent.mkdir(parents=True)
    bad.write_bytes(content)
    result = ingest_file(agency, bad, settings=good)
    assert result.status == "rejected"
    assert result.reason.startswith(name + ":") and words in result.reason, result.reason
    assert "\n" not in result.reason
    assert result.rows_loaded == 0
    # nothing half-written: no lake partition, no quarantine rows, no manifest for this file
    assert not [p for p in good.lake.rglob("*") if p.is_file()]
    assert not list((good.quarantine / agency).glob("extract_date=*"))
    record = json.loads((good.quarantine / agency / "rejected" / f"{name}.error.json").read_text())
    assert record["reason"] in result.reason and record["checksum"] == result.checksum


def test_rejection_keeps_previous_good_partition(good):
    f = good.inbox / "cbp" / "CBP_NB_20261103.csv"
    assert ingest_file("cbp", f, settings=good).ok
    part = next(good.lake.glob("events/agency=cbp/*/part-0.parquet"))
    before = part.read_bytes()
    f.write_bytes(f.read_bytes()[:100])
    assert ingest_file("cbp", f, settings=good).status == "rejected"
    assert part.read_bytes() == before


def test_cli_rejected_file_exit_4_and_one_line_error(good):
    bad = good.home / "RCMP_IBET_OCC_20261103.csv"
    bad.write_bytes(b"")
    for flag in (["--json"], ["--format", "json"]):  # --json is kept as an alias of --format json
        proc = subprocess.run([sys.executable, "-m", "ibet.cli", "ingest", "rcmp", str(bad), *flag],
                              capture_output=True, text=True)
        assert proc.returncode == 4, proc.stderr  # a rejected file, not a usage error (2)
        out = json.loads(proc.stdout)
        assert out["status"] == "rejected" and out["rows_loaded"] == 0
        assert "rejected: RCMP_IBET_OCC_20261103.csv: empty file" in proc.stderr
    usage = subprocess.run([sys.executable, "-m", "ibet.cli", "ingest", "rcmp", str(bad), "--format", "yaml"],
                           capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert usage.returncode == 2 and "'yaml' is not one of 'table', 'json'" in usage.stderr


def test_bad_file_name_is_refused(good):
    bad = good.home / "RCMP_IBET_OCC_20261340.csv"
    bad.write_bytes(b"x")
    proc = subprocess.run([sys.executable, "-m", "ibet.cli", "ingest", "rcmp", str(bad)], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and "not a rcmp file name" in proc.stderr


def test_parser_errors_never_quote_content(good):
    """pyarrow quotes the offending row in its message; ours must not."""
    f = good.inbox / "rcmp" / "RCMP_IBET_OCC_20261103.csv"
    lines = f.read_bytes().split(b"\r\n")
    lines[3] = b"Tremblay-Secret,only,three"
    f.write_bytes(b"\r\n".join(lines))
    result = ingest_file("rcmp", f, settings=good)
    assert result.status == "rejected" and "Tremblay-Secret" not in result.reason
    assert "Tremblay-Secret" not in (good.logs / "ibet.log").read_text()


def _ingested_events(settings, agency: str) -> set[str]:
    import duckdb

    con = duckdb.connect()
    try:
        return {r[0] for r in con.execute(
            "SELECT source_id FROM read_parquet(?, hive_partitioning=true)",
            [str(settings.lake / "events" / f"agency={agency}" / "*" / "*.parquet")]).fetchall()}
    finally:
        con.close()


def test_malformed_json_lines_in_the_middle_are_quarantined_and_every_other_line_loads(good):
    """Three lines broken in the middle of a CBSA day (cut JSON, a bare number, bytes that are not UTF-8,
    one holding a planted name), and one valid line with an unknown action: each is a quarantined record
    with its line number and reason and no content, in file order; every other event loads exactly as it
    does from the intact file."""
    f = good.inbox / "cbsa" / "cbsa_enforcement_2026-11-03.jsonl"
    intact = f.read_bytes()
    lines = intact.split(b"\n")
    assert lines[-1] == b"" and len(lines) > 30
    whole = ingest_file("cbsa", f, settings=good)
    assert whole.ok and whole.rows_quarantined == 0  # dirty_rate 0: every event of the intact file loads
    expected = _ingested_events(good, "cbsa")
    broken = {5: b'{"event_ref": "CBSA-BROKEN", "persons": [{"family_name": "Zyxwvutsky-Planted"', 12: b"42",
              20: b"\xff\xfe{\"event_ref\": \"x\"}"}
    lost = set()
    lost_persons = 0
    for n, text in broken.items():
        lost.add(json.loads(lines[n - 1])["event_ref"])
        lost_persons += len(json.loads(lines[n - 1]).get("persons") or [])
        lines[n - 1] = text
    typed = json.loads(lines[14])  # line 15: a JSON object, but text where the ICD has a number
    lost.add(typed["event_ref"])
    lost_persons += len(typed.get("persons") or [])
    typed["location"] = {"lat": "north of the line", "lon": -73.4}
    lines[14] = json.dumps(typed).encode()
    invalid = json.loads(lines[7])  # line 8: valid JSON, but an action the contract does not know
    invalid["action"] = "BOGUS"
    lines[7] = json.dumps(invalid).encode()
    lost.add(invalid["event_ref"])
    f.write_bytes(b"\n".join(lines))
    result = ingest_file("cbsa", f, settings=good)
    assert result.ok, result.reason
    events = result.levels["events"]
    assert events["read"] == len(lines) - 1  # every line counted as a record read
    assert events["quarantined"] == 5 and events["loaded"] == events["read"] - 5
    # an unparsed line is one event: the persons read are the intact file's less those of the broken lines
    assert result.levels["persons"]["read"] == whole.levels["persons"]["read"] - lost_persons
    assert _ingested_events(good, "cbsa") == expected - lost  # the same events as before, less the 5 bad lines
    import polars as pl

    q = pl.read_parquet(next((good.quarantine / "cbsa").glob("extract_date=*/*.parquet")))
    levels = q["level"].to_list()
    assert levels == sorted(levels, key=["events", "persons", "goods"].index)  # level by level, in file order
    events_q = q.filter(pl.col("level") == "events")["record"].to_list()
    assert events_q == [5, 8, 12, 15, 20]  # the unparsed lines among the invalid record, in file order
    top = q.filter(pl.col("checks") == "malformed_record")
    assert top.sort("record").select("record", "reason").rows() == [
        (5, "line is not valid JSON"), (12, "line is not a JSON object"),
        (15, "a value of the wrong JSON type for its key"), (20, "line is not UTF-8 text")]
    assert top["source_id"].null_count() == 4
    # the broken lines' content is nowhere: quarantine, manifest, log
    for path in [*good.quarantine.rglob("*"), *good.lake.rglob("*"), *good.logs.rglob("*")]:
        if path.is_file():
            assert b"Zyxwvutsky" not in path.read_bytes(), path
    assert "Zyxwvutsky" not in q.write_csv()


@pytest.mark.parametrize("content, words", [
    (b'{"event_ref": "A"}\n{"event_ref": "B"}\n{"event_ref": "C", "acti', "truncated"),
    (b'[\n{"event_ref": "A"},\n{"event_ref": "B"}\n]\n', "one JSON array"),
    (b'{"event_ref": "A"}\nnot json\nnor this\n', "2 of 3 lines are malformed (more than half)"),
    (b"\n\n  \n", "only blank lines"),
])
def test_a_json_lines_file_is_still_rejected_whole_when_truncated_not_json_lines_or_mostly_bad(good, content, words):
    bad = good.home / "bad" / "cbsa_enforcement_2026-11-03.jsonl"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(content)
    result = ingest_file("cbsa", bad, settings=good)
    assert result.status == "rejected" and words in result.reason, result.reason
    assert not [p for p in good.lake.rglob("*") if p.is_file()]


#: lines that fit CBSA's JSON types or not, in every way the screen of the JSON Lines reader must see
#: (readers._json_screen): misfits at the top, in an object, in a list's object; escaped keys; elements of a
#: list that are not objects; look-alikes inside strings; whitespace around the colon
_SCREENED = [
    '{"event_ref": "A1", "location": {"lat": 45.1, "lon": -73.4}, "between_ports": true}',
    '{"event_ref": "A2", "location": {"lat": "45.1", "lon": -73.4}}',
    '{"event_ref": "A3", "location": {"lat"  :  "north", "lon": -73.4}}',
    '{"event_ref": "A4", "between_ports": "yes"}',
    '{"event_ref": "A5", "between_ports": 1}',
    '{"event_ref": "A6", "location": [45.1, -73.4]}',
    '{"event_ref": "A7", "persons": {"family_name": "X"}}',
    '{"event_ref": "A8", "persons": [{"family_name": "X", "travel_doc": "P123"}]}',
    '{"event_ref": "A9", "persons": [{"family_name": "X"}, 5]}',
    '{"event_ref": "B1", "persons": [{"family_name": "X"}, "Y"]}',
    '{"event_ref": "B2", "persons": [null, {"family_name": "X"}]}',
    '{"event_ref": "B3", "goods": [{"commodity": "COCAINE", "quantity": "2", "uom": "kg"}]}',
    '{"event_ref": "B4", "goods": [{"commodity": "COCAINE", "quantity": 2, "value_cad": true}]}',
    '{"event_ref": "B5", "l\\u006fcation": {"lat": "x"}}',
    '{"event_ref": "B6", "location": {"l\\u0061t": "north"}}',
    '{"event_ref": "B7", "officer_notes": "saw \\"lat\\": \\"x\\", [1, 2], then left", "goods": []}',
    '{"event_ref": "B8", "officer_notes": "a, b, c", "persons": [], "location": null, "between_ports": null}',
    '{"event_ref": "B9", "extra": {"lat": "x"}, "tags": [1, "two"]}',
    '{"event_ref": "C1", "conveyance": "truck"}',
    '{"event_ref": "C2", "conveyance": {"mode": 5, "plate": ["A"]}}',
    '{"event_ref": "C3", "persons": [{"travel_doc": {"type": "P", "number": 12345, "issuer": null}}]}',
    '{"event_ref": "C4", "location": {"lat": -0.0, "lon": 1e3}, "goods": [{"quantity": -2.5}]}',
    '{"event_ref": "C5", "location": {"lat": 45.1, "lon": -73.4}}{"x": 1}',
    '   {"event_ref": "C6", "between_ports": false}',
    '[{"event_ref": "C7"}]',
    '{"event_ref": "C8", "between_ports": tru}',
]


def test_the_json_screen_reads_every_line_as_the_full_check_does(tmp_path, monkeypatch):
    """The JSON Lines reader parses most lines once (readers._json_screen passes them); the records and the
    reasons are exactly those of the full check (every line's keys parsed as JSON, each value's JSON type
    checked), and a generated day's lines do take the fast path."""
    import duckdb
    import polars as pl

    from contracts import readers
    from transforms.cbsa import JSON_SCHEMA

    f = tmp_path / "cbsa.jsonl"
    fitting = [f'{{"event_ref": "G{i}", "location": {{"lat": 45.{i}, "lon": -73.4}}, "persons": [{{"family_name": '
               f'"N{i}", "travel_doc": {{"number": "P{i}"}}}}], "goods": [{{"quantity": {i}}}]}}' for i in range(100)]
    f.write_text("\n".join(_SCREENED * 3 + fitting) + "\n", encoding="utf-8")  # the good lines outnumber the bad

    def read() -> tuple[pl.DataFrame, pl.DataFrame]:
        parts = list(readers.iter_ndjson(f, JSON_SCHEMA, 1 << 20))
        return pl.concat([p[0] for p in parts]), pl.concat([p[1] for p in parts])

    screened = read()
    with monkeypatch.context() as m:
        m.setattr(readers, "_json_screen", lambda schema: None)  # every line takes the full check
        full = read()
    assert screened[0].equals(full[0]) and screened[1].equals(full[1])
    assert full[1].height >= 3 * 15 and full[0].height >= 3 * 5  # both kinds are there
    assert full[1].height and full[0].height  # both kinds are there
    pattern = readers._json_screen(JSON_SCHEMA)
    con = duckdb.connect()

    def flagged(lines: list[str]) -> set[str]:
        return {r[0] for r in con.execute("SELECT s FROM unnest(?::VARCHAR[]) AS t(s) WHERE regexp_matches(s, ?)",
                                          [lines, pattern]).fetchall()}

    # every line the full check finds a value of the wrong type in is one the screen flags
    typed_bad = {_SCREENED[(r - 1) % len(_SCREENED)] for r, why in full[1].rows()
                 if why == "a value of the wrong JSON type for its key" and r <= 3 * len(_SCREENED)}
    assert len(typed_bad) >= 10 and typed_bad <= flagged(_SCREENED)
    # and a generated day's lines (names in UTF-8, notes with commas and quotes) are read once
    generate(tmp_path / "inbox", dt.date(2026, 11, 3), 1, 200, seed=5, dirty_rate=0.0)
    day = (tmp_path / "inbox" / "cbsa" / "cbsa_enforcement_2026-11-03.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(flagged(day)) * 10 < len(day)

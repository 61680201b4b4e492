"""Every malformed-file case gets a clear one-line error, an error record, exit 2, and nothing written."""
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

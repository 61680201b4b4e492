"""Ingest in batches: a file read in many small batches gives what the same file read whole gives.

Every agency's format is read batch by batch (IBET_BATCH_MB); the checks that span the file (an id sent
twice, wherever the two records fall; JSON Lines' whole-file rules) stay whole-file checks, and nothing
of a file reaches the lake before its last batch.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import polars as pl
import pytest

from foundation.settings import init_home
from ibet.batch_outputs import BatchOutputs
from ibet.generator import generate
from ibet.ingest import ingest_file, quarantine_path
from foundation.registry import source_for
from tests.conftest import inbox_files

SMALL_MB = 1 / 16  # 64 KiB of input per batch: every generated file here takes several batches


def _ingest_all(tmp, name: str, inbox, key: bytes, batch_mb: float, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IBET_HOME", str(tmp / name))
    monkeypatch.setenv("IBET_BATCH_MB", str(batch_mb))
    settings = init_home()
    return settings, {f.name: ingest_file(a, f, settings=settings, key=key) for a, f in inbox_files(inbox)}


@pytest.fixture(scope="module")
def whole_and_batched(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("streaming")
    truth = generate(tmp / "inbox", dt.date(2026, 11, 2), 1, 2500, seed=5, dirty_rate=0.05)
    key = secrets.token_bytes(32)
    batches: dict[str, list[int]] = {"whole": [], "batched": []}
    with pytest.MonkeyPatch.context() as mp:
        for name, size in (("whole", 1024), ("batched", SMALL_MB)):
            counted = []
            real_add = BatchOutputs.add

            def add(self, *a, _counted=counted, _real=real_add):  # noqa: ANN001 - counts the batches of each file
                if not any(o is self for o in _counted):
                    _counted.append(self)  # kept alive: an id() could be reused by the next file's outputs
                return _real(self, *a)
            mp.setattr(BatchOutputs, "add", add)
            runs = _ingest_all(tmp, name, tmp / "inbox", key, size, mp)
            batches[name] = [o.batches for o in counted]
            mp.setattr(BatchOutputs, "add", real_add)
            whole_or_batched = runs
            if name == "whole":
                whole = whole_or_batched
            else:
                batched = whole_or_batched
    return {"truth": truth, "whole": whole, "batched": batched, "inbox": tmp / "inbox", "batches": batches}


def test_batches_give_the_counts_of_the_whole_file(whole_and_batched):
    (_, whole), (_, batched) = whole_and_batched["whole"], whole_and_batched["batched"]
    by_file = {f["file"]: f for f in whole_and_batched["truth"]["files"]}
    assert whole.keys() == batched.keys() and len(whole) >= 6
    for name, w in whole.items():
        b = batched[name]
        assert w.ok and b.ok, (name, w.reason, b.reason)
        assert (b.levels, b.tables, b.rows_read, b.rows_loaded, b.rows_quarantined) == \
               (w.levels, w.tables, w.rows_read, w.rows_loaded, w.rows_quarantined), name
        truth = by_file[name]
        for level, counts in b.levels.items():  # and both against what the generator wrote and corrupted
            assert counts["read"] == truth["rows"][level], (name, level)
            assert counts["quarantined"] == truth["expected_quarantined"][level], (name, level)


def test_batches_write_the_bytes_of_the_whole_file(whole_and_batched):
    """Row groups are cut at a fixed size, not at batches: the same file gives the same lake bytes at any
    batch size (and the quarantine's records, in file order)."""
    ws, bs = whole_and_batched["whole"][0], whole_and_batched["batched"][0]
    batches = whole_and_batched["batches"]
    assert set(batches["whole"]) == {1}, "the whole-file run read a file in several batches"
    assert sum(n > 3 for n in batches["batched"]) >= 5, f"the small batch size did not split the files: {batches}"
    parts = sorted(ws.lake.glob("*/agency=*/*=*/part-0.parquet"))
    assert len(parts) >= 20
    for part in parts:
        other = bs.lake / part.relative_to(ws.lake)
        assert hashlib.sha256(other.read_bytes()).digest() == hashlib.sha256(part.read_bytes()).digest(), part


def test_an_id_sent_twice_is_quarantined_whichever_batches_hold_it(whole_and_batched):
    (ws, whole), bs = whole_and_batched["whole"], whole_and_batched["batched"][0]
    dup_records = 0
    for name, w in whole.items():
        if w.agency == "program":
            continue
        source, key = source_for(w.agency, name)
        wq = pl.read_parquet(quarantine_path(ws, source, key))
        bq = pl.read_parquet(quarantine_path(bs, source, key))
        cols = ["level", "record", "parent_record", "source_id", "checks"]
        assert bq.select(cols).equals(wq.select(cols)), name
        split = lambda s: sorted(s.split("; ")) if s else s  # noqa: E731 - the order of reasons within one record
        assert [split(r) for r in bq["reason"]] == [split(r) for r in wq["reason"]], name
        dup_records += wq.filter(pl.col("checks").str.contains("field_uniqueness")).height
    assert dup_records >= 5, "no duplicate ids were generated: the test proves nothing"


def test_a_file_rejected_at_its_end_leaves_nothing(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """More than half of a JSON Lines file's lines malformed is only known after its last batch: the
    batches already processed must leave no partition, no manifest, no quarantine and no work file."""
    monkeypatch.setenv("IBET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("IBET_BATCH_MB", str(SMALL_MB))
    settings = init_home()
    generate(tmp_path / "inbox", dt.date(2026, 11, 2), 1, 2000, seed=2, dirty_rate=0.0, agencies_=["cbsa"])
    (path,) = sorted((tmp_path / "inbox" / "cbsa").glob("*.jsonl"))
    lines = path.read_bytes().splitlines(keepends=True)
    tail = len(lines) * 2 // 3
    path.write_bytes(b"".join(lines[:len(lines) - tail]) + b"".join(b"not json\n" for _ in range(tail)))
    r = ingest_file("cbsa", path, settings=settings, key=secrets.token_bytes(32))
    assert not r.ok and "more than half" in r.reason
    assert not list(settings.lake.rglob("*.parquet")) and not list(settings.lake.rglob("_ingest/*/*.json"))
    assert not list(settings.quarantine.rglob("*.parquet"))
    assert not any((settings.home / "work").iterdir())

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


def test_a_file_whose_every_id_repeats_streams_to_the_quarantine_of_the_whole_file(tmp_path, monkeypatch):
    """Every record of the file's second half repeats an id of its first half, so the cross-batch check
    moves every valid record out of the lake and its records interleave with those validation already
    quarantined: the streamed end of the file (merged per level, in file order) gives the whole file's
    quarantine, its counts, and an events table without a single repeated id."""
    generate(tmp_path / "inbox", dt.date(2026, 11, 2), 1, 1500, seed=9, dirty_rate=0.05, agencies_=["rcmp"])
    (path,) = sorted((tmp_path / "inbox" / "rcmp").glob("*.csv"))
    raw = path.read_bytes()
    header, _, body = raw.partition(b"\r\n")
    path.write_bytes(header + b"\r\n" + body + body)  # the same records again: every id twice
    key = secrets.token_bytes(32)
    runs = {}
    for name, size in (("whole", 1024), ("batched", SMALL_MB)):
        monkeypatch.setenv("IBET_HOME", str(tmp_path / name))
        monkeypatch.setenv("IBET_BATCH_MB", str(size))
        settings = init_home()
        result = ingest_file("rcmp", path, settings=settings, key=key)
        source, pkey = source_for("rcmp", path.name)
        runs[name] = (result, pl.read_parquet(quarantine_path(settings, source, pkey)), settings)
    (w, wq, _), (b, bq, bs) = runs["whole"], runs["batched"]
    assert w.ok and b.ok and b.rows_read == w.rows_read == 3000
    assert (b.rows_loaded, b.rows_quarantined, b.levels) == (w.rows_loaded, w.rows_quarantined, w.levels)
    assert w.rows_loaded == 0 and w.rows_quarantined == 3000  # every id repeats: nothing may load
    assert bq.height == wq.height == 3000
    cols = ["level", "record", "parent_record", "source_id", "source_file", "source_checksum"]
    assert bq.select(cols).equals(wq.select(cols))
    assert bq["record"].to_list() == sorted(bq["record"].to_list())  # file order
    for col, sep in (("columns", ";"), ("checks", ";"), ("reason", "; ")):  # the order within one record aside
        split = lambda s: sorted(s.split(sep)) if s else s  # noqa: E731
        assert [split(r) for r in bq[col]] == [split(r) for r in wq[col]], col
    assert bq.filter(pl.col("checks").str.contains("field_uniqueness")).height == 3000
    events = list(bs.lake.glob("events/agency=rcmp/*/part-0.parquet"))
    assert all(pl.read_parquet(e).height == 0 for e in events)


def test_merge_in_order_keeps_file_order_whatever_the_chunks():
    """The quarantine's merge: two streams in (parent_record, record) order, cut into chunks of any size,
    come out as their sorted union, each row once."""
    import random

    from ibet.batch_outputs import merge_in_order

    rng = random.Random(4)
    for _ in range(30):
        keys = sorted({(rng.randint(-1, 40), rng.randint(1, 60)) for _ in range(rng.randint(0, 300))})
        side = [rng.random() < 0.5 for _ in keys]
        frames = []
        for want in (True, False):
            rows = [k for k, s in zip(keys, side) if s == want]
            df = pl.DataFrame({"parent_record": [None if p < 0 else p for p, _ in rows], "record": [r for _, r in rows],
                               "side": [want] * len(rows)}, schema={"parent_record": pl.Int64, "record": pl.Int64,
                                                                    "side": pl.Boolean})
            cuts = sorted(rng.sample(range(1, max(2, df.height)), min(5, max(0, df.height - 1))))
            frames.append([df.slice(a, b - a) for a, b in zip([0, *cuts], [*cuts, df.height])])
        out = pl.concat([f for f in merge_in_order(iter(frames[0]), iter(frames[1]))] or
                        [pl.DataFrame(schema={"parent_record": pl.Int64, "record": pl.Int64, "side": pl.Boolean})])
        got = [(-1 if p is None else p, r) for p, r in out.select("parent_record", "record").iter_rows()]
        assert got == keys


def test_hash_index_agrees_with_is_in_and_finds_positions():
    """The sorted-hash index the cross-batch check and a re-send's first-seen times ask: the same answers
    as polars' ``is_in``, each found value's position in the set, nulls never found."""
    import random

    from ibet.hash_index import HashIndex

    rng = random.Random(7)
    pool = [f"id-{rng.randint(0, 5000)}" for _ in range(3000)] + [None]
    members = pl.Series([rng.choice(pool) for _ in range(1000)], dtype=pl.Utf8)
    asked = pl.Series([rng.choice(pool) for _ in range(4000)], dtype=pl.Utf8)
    index = HashIndex(members)
    got = index.contains(asked)
    assert got.to_list() == asked.is_in(members.drop_nulls().implode()).fill_null(False).to_list()
    assert got.sum() > 100 and (~got).sum() > 100
    at = index.find(asked)
    assert all(members[int(i)] == v for i, v in zip(at, asked) if i >= 0)
    assert not HashIndex.empty().contains(asked).any()

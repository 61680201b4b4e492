"""What a file's batches become while ingest streams through it: canonical Parquet files, the quarantine,
the counts, and the checks that span the whole file.

Ingest reads a file in batches so that memory holds one batch, whatever the file's size. Each batch is
validated and normalized alone; its canonical rows are staged in one private Arrow file per table (LZ4,
cheap to write and to read back), its quarantined records in one per record level, and the ids and
positions of its records in an index on disk. At the end each table, and the quarantine, is written
once as Parquet, in row groups of a fixed size whatever the batches were, so the same file gives the
same bytes at any batch size. Nothing reaches the lake before the last batch: the finished files
replace the partition as one unit (ingest's commit), or are dropped with the work folder when the file
is rejected.

A check that spans batches is run on that index at the end: an id sent twice in the file is a
duplicate wherever the two records fall (``field_uniqueness`` within a batch is pandera's, across
batches it is this module's). A valid record found to share its id with a record of another batch
leaves the canonical files for the quarantine with its children, exactly as if the file had been
validated whole.

The end of the file streams too: the staged quarantine and the records the check moves are merged in
file order chunk by chunk (both are in file order already), and the check's sets (the repeated ids, the
events they take out) are held as sorted hashes (``HashIndex``). A file whose every record repeats an id (5 million
records over a million ids) ends in the memory of its batches, not in a quarantine frame of its size.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from foundation import duck
from contracts.base import Contract
from contracts.readers import PARENT, ROW
from contracts.validate import QUARANTINE_SCHEMA, Validation
from ibet.hash_index import HashIndex

#: the record index: every top-level record with its id (valid or not), every valid child with its record
#: and its top-level record's id (so that the records an id moves are found by the id alone)
INDEX_SCHEMA = pa.schema([("level", pa.string()), ("record", pa.int64()), ("parent_record", pa.int64()),
                          ("id", pa.string()), ("valid", pa.bool_())])
DUPLICATE = "field_uniqueness"
ROW_GROUP = 256_000
#: the quarantine as staged and as written (its Parquet file adds the source file's name and checksum)
QUARANTINE_ARROW = pa.schema([(name, pa.int64() if dtype == pl.Int64 else pa.string())
                              for name, dtype in QUARANTINE_SCHEMA.items()])
#: staged batches: Arrow IPC, LZ4 (fast to write and read back; the Parquet file is written once, at the end)
_STAGED = pa.ipc.IpcWriteOptions(compression="lz4")
#: file order within a level: a top-level record by its number, a child by its record's, then its own (which
#: counts within its record)
_PARENT = pl.col("parent_record").fill_null(-1)


def in_file_order(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort(_PARENT, "record", maintain_order=True)


@dataclass
class _FixedGroups:
    """A Parquet file written in row groups of ROW_GROUP rows whatever the batches given: the same rows
    give the same bytes at any batch size."""

    writer: pq.ParquetWriter
    schema: pa.Schema
    pending: list[pa.RecordBatch] = field(default_factory=list)
    held: int = 0
    written: bool = False

    def write(self, part: pa.RecordBatch | pa.Table) -> None:
        self.pending += part.to_batches() if isinstance(part, pa.Table) else [part]
        self.held += part.num_rows
        while self.held >= ROW_GROUP:
            table = pa.Table.from_batches(self.pending, self.schema)
            self.writer.write_table(table.slice(0, ROW_GROUP), row_group_size=ROW_GROUP)
            self.pending, self.held, self.written = table.slice(ROW_GROUP).to_batches(), self.held - ROW_GROUP, True

    def close(self) -> None:
        if self.held or not self.written:
            self.writer.write_table(pa.Table.from_batches(self.pending, self.schema), row_group_size=ROW_GROUP)
        self.writer.close()


def _staged(path: Path) -> Iterator[pa.RecordBatch]:
    """The batches of a staged Arrow file, one at a time (none when nothing was staged)."""
    if not path.exists():
        return
    with pa.OSFile(str(path)) as src:
        reader = pa.ipc.open_file(src)
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)


def merge_in_order(a: Iterator[pl.DataFrame], b: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """Two streams of one level's records, each in file order (``parent_record``, ``record``), as one
    stream in file order: each step emits what both buffers hold up to the smaller of the last keys of
    the streams that may send more, so memory holds a chunk of each, never a whole stream."""
    streams, bufs, done = [a, b], [pl.DataFrame(), pl.DataFrame()], [False, False]

    while True:
        for i in (0, 1):
            while not done[i] and not bufs[i].height:
                nxt = next(streams[i], None)
                done[i] = nxt is None
                bufs[i] = bufs[i] if nxt is None else nxt
        held = [buf for buf in bufs if buf.height]
        if not held:
            return
        open_ = [bufs[i] for i in (0, 1) if not done[i]]  # each holds rows (else it would be done)
        if not open_:
            bufs = [pl.DataFrame(), pl.DataFrame()]
            yield in_file_order(pl.concat(held, how="vertical_relaxed"))
            return
        fp, fr = min((buf["parent_record"].fill_null(-1)[-1], buf["record"][-1]) for buf in open_)
        out = []
        for i in (0, 1):
            if bufs[i].height:
                upto = bufs[i].select((_PARENT < fp) | ((_PARENT == fp) & (pl.col("record") <= fr))).to_series()
                out.append(bufs[i].filter(upto))
                bufs[i] = bufs[i].filter(~upto)
        yield in_file_order(pl.concat(out, how="vertical_relaxed"))


@dataclass
class Finished:
    files: dict[str, Path]  #: canonical table -> its finished Parquet file (in the work folder)
    rows: dict[str, int]  #: canonical table -> rows
    quarantine: Path  #: the quarantine's finished Parquet file (in the work folder), in file order
    read: dict[str, int]
    loaded: dict[str, int]
    quarantined: dict[str, int]


@dataclass
class BatchOutputs:
    """The outputs of one file's batches, in ``work`` (a private folder the caller removes)."""

    work: Path
    contract: Contract
    metadata: dict[str, str]
    writers: dict[str, pa.ipc.RecordBatchFileWriter] = field(default_factory=dict)
    schemas: dict[str, pa.Schema] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    quarantine: dict[str, pa.ipc.RecordBatchFileWriter] = field(default_factory=dict)  #: level -> staged records
    read: dict[str, int] = field(default_factory=dict)
    loaded: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    _index: pq.ParquetWriter | None = None
    _events: pq.ParquetWriter | None = None
    _closed: bool = False

    def add(self, batch: dict[str, pl.DataFrame], val: Validation, tables: dict[str, pa.Table]) -> None:
        """Append one batch: its canonical rows, its quarantined records, its counts and its index."""
        for name, table in tables.items():
            if name not in self.writers:
                schema = table.schema.with_metadata({**(table.schema.metadata or {}), **self.metadata})
                self.writers[name] = pa.ipc.new_file(self.work / f"{name}.arrows", schema, options=_STAGED)
                self.schemas[name] = schema
                self.rows[name] = 0
            self.writers[name].write_table(table.replace_schema_metadata(self.schemas[name].metadata))
            self.rows[name] += table.num_rows
        if "events" in tables:  # which event each top-level record became (a duplicate's rows leave by it)
            events = tables["events"].select(["source_row", "event_uid"])
            if self._events is None:
                self._events = pq.ParquetWriter(self.work / "_events.parquet", events.schema, compression="zstd")
            self._events.write_table(events)
        self._stage_quarantine(val.quarantine)
        for level in val.read:
            self.read[level] = self.read.get(level, 0) + val.read[level]
            self.loaded[level] = self.loaded.get(level, 0) + val.loaded[level]
            self.quarantined[level] = self.quarantined.get(level, 0) + val.quarantined[level]
        self._write_index(batch, val)
        self.batches += 1

    def _stage_quarantine(self, quarantine: pl.DataFrame) -> None:
        """The batch's quarantined records, per level, in file order (a level's records of one batch all
        come before those of the next, so the staged file is in file order too)."""
        if not quarantine.height:
            return
        quarantine = quarantine.cast(QUARANTINE_SCHEMA)
        for level in self.contract.levels:
            part = quarantine.filter(pl.col("level") == level)
            if not part.height:
                continue
            if level not in self.quarantine:
                self.quarantine[level] = pa.ipc.new_file(self.work / f"_quarantine.{level}.arrows", QUARANTINE_ARROW,
                                                         options=_STAGED)
            self.quarantine[level].write_table(in_file_order(part).to_arrow().cast(QUARANTINE_ARROW))

    def _write_index(self, batch: dict[str, pl.DataFrame], val: Validation) -> None:
        top, id_col = self.contract.top, self.contract.id_column
        valid_rows = val.valid[top][ROW].implode()
        parts = [batch[top].select(pl.lit(top).alias("level"), pl.col(ROW).alias("record"),
                                   pl.lit(None, pl.Int64).alias("parent_record"),
                                   pl.col(id_col).cast(pl.Utf8).alias("id"),
                                   pl.col(ROW).is_in(valid_rows).alias("valid"))]
        top_rows, top_ids = batch[top][ROW], batch[top][id_col].cast(pl.Utf8)
        for level, df in val.valid.items():
            if level == top:
                continue
            if self.contract.parents.get(level) != top:
                raise NotImplementedError(f"{level}: only children of the top level are indexed")
            parts.append(in_file_order(df.select(pl.lit(level).alias("level"), pl.col(ROW).alias("record"),
                                                 top_rows.gather(df[PARENT]).alias("parent_record"),
                                                 top_ids.gather(df[PARENT]).alias("id"), pl.lit(True).alias("valid"))))
        table = pl.concat(parts, how="vertical_relaxed").to_arrow().cast(INDEX_SCHEMA)
        if self._index is None:
            self._index = pq.ParquetWriter(self.work / "_index.parquet", INDEX_SCHEMA, compression="zstd")
        self._index.write_table(table)

    def close(self) -> None:
        """Close the staged files (again is a no-op: the caller's clean-up after a failure)."""
        if not self._closed:
            for writer in [*self.writers.values(), *self.quarantine.values(),
                           *(w for w in (self._index, self._events) if w is not None)]:
                writer.close()
            self._closed = True

    def finish(self) -> Finished:
        """Close the files, apply the checks that span batches, write the quarantine in file order."""
        self.close()
        repeated = self._repeated_ids() if self.batches > 1 else HashIndex.empty()
        dropped = self._move_duplicates(repeated)
        files = {name: self._to_parquet(name, dropped) for name in self.writers}
        self._write_quarantine(repeated)
        return Finished(files, dict(self.rows), self.work / "quarantine.parquet", dict(self.read), dict(self.loaded),
                        dict(self.quarantined))

    @property
    def _duplicate_reason(self) -> str:
        return f"{self.contract.id_column}: duplicate id within the file"

    def _repeated_ids(self) -> HashIndex:
        """The top-level ids the file sends more than once (DuckDB counts them, spilling to the private work
        folder rather than growing with the file)."""
        con = duck.connect()
        try:
            con.execute(f"SET memory_limit = '256MB'; SET temp_directory = '{self.work / '_spill'}'")
            ids = con.sql(f"""SELECT id FROM read_parquet('{self.work / '_index.parquet'}')
                              WHERE level = '{self.contract.top}' AND id IS NOT NULL
                              GROUP BY id HAVING count(*) > 1""").pl()["id"]
        finally:
            con.close()
        return HashIndex(ids)

    def _move_duplicates(self, repeated: HashIndex) -> HashIndex:
        """Stage, per level, the valid records a repeated id sends to the quarantine (with their children),
        count them, and return the ``event_uid``s of the canonical rows they take out of the lake."""
        if not len(repeated):
            return HashIndex.empty()
        top, id_col = self.contract.top, self.contract.id_column
        reason = self._duplicate_reason
        writers: dict[str, pa.ipc.RecordBatchFileWriter] = {}
        moved_top: list[np.ndarray] = []
        index = pq.ParquetFile(self.work / "_index.parquet")
        try:
            for part in index.iter_batches(batch_size=ROW_GROUP):
                df = pl.from_arrow(part)
                assert isinstance(df, pl.DataFrame)
                df = df.filter(pl.col("valid") & repeated.contains(df["id"]))
                for (level,), rows in df.group_by("level", maintain_order=True):
                    is_top = level == top
                    out = rows.select(pl.lit(level).alias("level"), "record", "parent_record",
                                      pl.col("id").alias("source_id"),
                                      pl.lit(id_col if is_top else None, pl.Utf8).alias("columns"),
                                      pl.lit(DUPLICATE if is_top else "parent_quarantined").alias("checks"),
                                      pl.lit(reason if is_top else f"{top} record quarantined").alias("reason"),
                                      pl.lit(None, pl.Utf8).alias("operational_values"))
                    if level not in writers:
                        writers[level] = pa.ipc.new_file(self.work / f"_moved.{level}.arrows", QUARANTINE_ARROW,
                                                         options=_STAGED)
                    writers[level].write_table(out.to_arrow().cast(QUARANTINE_ARROW))
                    self.loaded[level] -= rows.height
                    self.quarantined[level] += rows.height
                    if is_top:
                        moved_top.append(rows["record"].to_numpy())
        finally:
            for w in writers.values():
                w.close()
        return self._event_uids(np.sort(np.concatenate(moved_top)) if moved_top else np.array([], np.int64))

    def _event_uids(self, records: np.ndarray) -> HashIndex:
        """The ``event_uid``s of the events of ``records`` (sorted top-level record numbers)."""
        if not len(records):
            return HashIndex.empty()
        if self._events is None:
            raise NotImplementedError("records can only be dropped from sources with an events table")
        uids = pl.Series([], dtype=pl.Utf8)
        for part in pq.ParquetFile(self.work / "_events.parquet").iter_batches(batch_size=ROW_GROUP):
            rows = part.column("source_row").to_numpy(zero_copy_only=False)
            at = np.minimum(np.searchsorted(records, rows), len(records) - 1)
            hit = records[at] == rows
            if hit.any():  # kept distinct as it grows: the events of a repeated id share its uid
                uids = pl.concat([uids, pl.Series(part.column("event_uid")).cast(pl.Utf8).filter(pl.Series(hit))]
                                 ).unique()
        return HashIndex(uids)

    def _top_marked(self, part: pl.DataFrame, repeated: HashIndex) -> pl.DataFrame:
        """Top-level records quarantined for another reason carry the duplicate too, as whole-file
        validation says."""
        top, id_col, reason = self.contract.top, self.contract.id_column, self._duplicate_reason
        hit = pl.lit(repeated.contains(part["source_id"])) & (pl.col("level") == top) & \
            ~pl.col("checks").fill_null("").str.contains(DUPLICATE, literal=True)
        return part.with_columns(
            pl.when(hit).then(pl.concat_str([pl.col("columns"), pl.lit(id_col)], separator=";", ignore_nulls=True))
            .otherwise(pl.col("columns")).alias("columns"),
            pl.when(hit).then(pl.concat_str([pl.col("checks"), pl.lit(DUPLICATE)], separator=";", ignore_nulls=True))
            .otherwise(pl.col("checks")).alias("checks"),
            pl.when(hit).then(pl.concat_str([pl.col("reason"), pl.lit(reason)], separator="; ", ignore_nulls=True))
            .otherwise(pl.col("reason")).alias("reason"))

    def _write_quarantine(self, repeated: HashIndex) -> None:
        """The quarantine's Parquet file: each level in the contract's order, its records in file order (the
        staged ones merged with those the cross-batch check moved), with the source file's name and checksum."""
        source = {"source_file": self.metadata.get("ibet.source_file"),
                  "source_checksum": self.metadata.get("ibet.source_checksum")}
        schema = pa.schema([*QUARANTINE_ARROW, pa.field("source_file", pa.string()),
                            pa.field("source_checksum", pa.string())], metadata=self.metadata)
        target = self.work / "quarantine.parquet"
        out = _FixedGroups(pq.ParquetWriter(target, schema, compression="zstd"), schema)

        def frames(path: Path, mark: bool) -> Iterator[pl.DataFrame]:
            for part in _staged(path):
                df = pl.from_arrow(part)
                assert isinstance(df, pl.DataFrame)
                yield self._top_marked(df, repeated) if mark and len(repeated) else df

        try:
            for level in self.contract.levels:
                staged = frames(self.work / f"_quarantine.{level}.arrows", mark=level == self.contract.top)
                for df in merge_in_order(staged, frames(self.work / f"_moved.{level}.arrows", mark=False)):
                    if df.height:
                        df = df.with_columns(*(pl.lit(v, pl.Utf8).alias(k) for k, v in source.items()))
                        out.write(df.to_arrow().cast(schema))
        finally:
            out.close()

    def _to_parquet(self, name: str, dropped: HashIndex) -> Path:
        """The table's staged batches as its Parquet file, without the rows of ``dropped`` events, in row
        groups of ROW_GROUP rows whatever the batches were: the same file gives the same bytes at any
        batch size, and the Parquet encoding runs once."""
        target = self.work / f"{name}.parquet"
        schema = self.schemas[name]
        out = _FixedGroups(pq.ParquetWriter(target, schema, compression="zstd"), schema)
        try:
            for part in _staged(self.work / f"{name}.arrows"):
                if len(dropped) and part.num_rows:
                    keep = ~dropped.contains(pl.Series(part.column("event_uid")))
                    part = part.filter(keep.to_arrow())
                out.write(part)
        finally:
            out.close()
        self.rows[name] = pq.ParquetFile(target).metadata.num_rows
        (self.work / f"{name}.arrows").unlink()
        return target

"""What a file's batches become while ingest streams through it: canonical Parquet files, the quarantine,
the counts, and the checks that span the whole file.

Ingest reads a file in batches so that memory holds one batch, whatever the file's size. Each batch is
validated and normalized alone; its canonical rows are staged in one private Arrow file per table (LZ4,
cheap to write and to read back), and the ids and positions of its records in an index on disk. At the
end each table is written once as Parquet, in row groups of a fixed size whatever the batches were, so
the same file gives the same bytes at any batch size. Nothing reaches the lake before the last batch:
the finished files replace the partition as one unit (ingest's commit), or are dropped with the work
folder when the file is rejected.

A check that spans batches is run on that index at the end: an id sent twice in the file is a
duplicate wherever the two records fall (``field_uniqueness`` within a batch is pandera's, across
batches it is this module's). A valid record found to share its id with a record of another batch
leaves the canonical files for the quarantine with its children, exactly as if the file had been
validated whole.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from contracts.base import Contract
from contracts.readers import PARENT, ROW
from contracts.validate import QUARANTINE_SCHEMA, Validation

#: the record index: every top-level record with its id (valid or not), every valid child with its record
INDEX_SCHEMA = pa.schema([("level", pa.string()), ("record", pa.int64()), ("parent_record", pa.int64()),
                          ("id", pa.string()), ("valid", pa.bool_())])
DUPLICATE = "field_uniqueness"
ROW_GROUP = 256_000
#: staged batches: Arrow IPC, LZ4 (fast to write and read back; the Parquet file is written once, at the end)
_STAGED = pa.ipc.IpcWriteOptions(compression="lz4")


@dataclass
class Finished:
    files: dict[str, Path]  #: canonical table -> its finished Parquet file (in the work folder)
    rows: dict[str, int]  #: canonical table -> rows
    quarantine: pl.DataFrame
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
    quarantine: list[pl.DataFrame] = field(default_factory=list)
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
        self.quarantine.append(val.quarantine)
        for level in val.read:
            self.read[level] = self.read.get(level, 0) + val.read[level]
            self.loaded[level] = self.loaded.get(level, 0) + val.loaded[level]
            self.quarantined[level] = self.quarantined.get(level, 0) + val.quarantined[level]
        self._write_index(batch, val)
        self.batches += 1

    def _write_index(self, batch: dict[str, pl.DataFrame], val: Validation) -> None:
        top, id_col = self.contract.top, self.contract.id_column
        valid_rows = val.valid[top][ROW].implode()
        parts = [batch[top].select(pl.lit(top).alias("level"), pl.col(ROW).alias("record"),
                                   pl.lit(None, pl.Int64).alias("parent_record"),
                                   pl.col(id_col).cast(pl.Utf8).alias("id"),
                                   pl.col(ROW).is_in(valid_rows).alias("valid"))]
        top_rows = batch[top][ROW]
        for level, df in val.valid.items():
            if level == top:
                continue
            if self.contract.parents.get(level) != top:
                raise NotImplementedError(f"{level}: only children of the top level are indexed")
            parts.append(df.select(pl.lit(level).alias("level"), pl.col(ROW).alias("record"),
                                   top_rows.gather(df[PARENT]).alias("parent_record"),
                                   pl.lit(None, pl.Utf8).alias("id"), pl.lit(True).alias("valid")))
        table = pl.concat(parts, how="vertical_relaxed").to_arrow().cast(INDEX_SCHEMA)
        if self._index is None:
            self._index = pq.ParquetWriter(self.work / "_index.parquet", INDEX_SCHEMA, compression="zstd")
        self._index.write_table(table)

    def close(self) -> None:
        """Close the staged files (again is a no-op: the caller's clean-up after a failure)."""
        if not self._closed:
            for writer in [*self.writers.values(), *(w for w in (self._index, self._events) if w is not None)]:
                writer.close()
            self._closed = True

    def finish(self) -> Finished:
        """Close the files, apply the checks that span batches, and order the quarantine as the file."""
        self.close()
        quarantine = (pl.concat(self.quarantine, how="vertical_relaxed").cast(QUARANTINE_SCHEMA) if self.quarantine
                      else pl.DataFrame(schema=QUARANTINE_SCHEMA))
        dropped = pa.array([], pa.string())
        if self.batches > 1:
            quarantine, dropped = self._duplicates_across_batches(quarantine)
        files = {name: self._to_parquet(name, dropped) for name in self.writers}
        order = {lvl: i for i, lvl in enumerate(self.contract.levels)}
        quarantine = quarantine.sort(pl.col("level").replace_strict(order, return_dtype=pl.Int64),
                                     pl.col("parent_record"), pl.col("record"), nulls_last=False, maintain_order=True)
        return Finished(files, dict(self.rows), quarantine, dict(self.read), dict(self.loaded),
                        dict(self.quarantined))

    def _duplicates_across_batches(self, quarantine: pl.DataFrame) -> tuple[pl.DataFrame, pa.Array]:
        """The quarantine with the records an id sent in two batches sends there, and the ``event_uid`` of the
        canonical rows they take out of the lake."""
        top, id_col = self.contract.top, self.contract.id_column
        con = duckdb.connect()
        try:
            # the id count spills into the private work folder rather than grow with the file
            con.execute(f"SET memory_limit = '256MB'; SET temp_directory = '{self.work / '_spill'}'")
            con.execute(f"CREATE TEMP VIEW idx AS SELECT * FROM read_parquet('{self.work / '_index.parquet'}')")
            dup_ids = con.sql(f"""SELECT id FROM idx WHERE level = '{top}' AND id IS NOT NULL
                                      GROUP BY id HAVING count(*) > 1""").pl()["id"]
            if dup_ids.is_empty():
                return quarantine, pa.array([], pa.string())
            con.register("dup_ids", dup_ids.to_frame().to_arrow())
            con.execute(f"""CREATE TEMP TABLE moved AS SELECT record, id FROM idx WHERE level = '{top}' AND valid
                            AND id IN (SELECT id FROM dup_ids) ORDER BY record""")
            moved = con.sql("SELECT record, id FROM moved ORDER BY record").pl()
            children = con.sql(f"""SELECT i.level, i.record, i.parent_record, m.id AS source_id FROM idx i
                                   JOIN moved m ON i.parent_record = m.record WHERE i.level <> '{top}'""").pl()
        finally:
            con.close()
        reason = f"{id_col}: duplicate id within the file"
        # records already quarantined for another reason carry the duplicate too, as whole-file validation says
        hit = ((pl.col("level") == top) & pl.col("source_id").is_in(dup_ids.implode())
               & ~pl.col("checks").fill_null("").str.contains(DUPLICATE, literal=True))
        quarantine = quarantine.with_columns(
            pl.when(hit).then(pl.concat_str([pl.col("columns"), pl.lit(id_col)], separator=";", ignore_nulls=True))
            .otherwise(pl.col("columns")).alias("columns"),
            pl.when(hit).then(pl.concat_str([pl.col("checks"), pl.lit(DUPLICATE)], separator=";", ignore_nulls=True))
            .otherwise(pl.col("checks")).alias("checks"),
            pl.when(hit).then(pl.concat_str([pl.col("reason"), pl.lit(reason)], separator="; ", ignore_nulls=True))
            .otherwise(pl.col("reason")).alias("reason"))
        if moved.is_empty():
            return quarantine, pa.array([], pa.string())
        added = [moved.select(pl.lit(top).alias("level"), "record", pl.lit(None, pl.Int64).alias("parent_record"),
                              pl.col("id").alias("source_id"), pl.lit(id_col).alias("columns"),
                              pl.lit(DUPLICATE).alias("checks"), pl.lit(reason).alias("reason"),
                              pl.lit(None, pl.Utf8).alias("operational_values")),
                 children.select("level", "record", "parent_record", "source_id", pl.lit(None, pl.Utf8).alias("columns"),
                                 pl.lit("parent_quarantined").alias("checks"),
                                 pl.lit(f"{top} record quarantined").alias("reason"),
                                 pl.lit(None, pl.Utf8).alias("operational_values"))]
        self.loaded[top] -= moved.height
        self.quarantined[top] += moved.height
        for level, n in children.group_by("level").len().iter_rows():
            self.loaded[level] -= n
            self.quarantined[level] += n
        return (pl.concat([quarantine, *added], how="vertical_relaxed").cast(QUARANTINE_SCHEMA),
                self._event_uids(moved["record"]))

    def _event_uids(self, records: pl.Series) -> pa.Array:
        """The ``event_uid`` of the events of ``records`` (top-level record numbers)."""
        if self._events is None:
            raise NotImplementedError("records can only be dropped from sources with an events table")
        con = duckdb.connect()
        try:
            con.execute(f"SET memory_limit = '256MB'; SET temp_directory = '{self.work / '_spill'}'")
            con.register("moved", pa.table({"record": records.to_numpy()}))
            uids = con.sql(f"""SELECT DISTINCT event_uid FROM read_parquet('{self.work / '_events.parquet'}')
                               WHERE source_row IN (SELECT record FROM moved)""").to_arrow_table()
        finally:
            con.close()
        return uids["event_uid"].combine_chunks().cast(pa.string())

    def _to_parquet(self, name: str, dropped: pa.Array) -> Path:
        """The table's staged batches as its Parquet file, without the rows of ``dropped`` events, in row
        groups of ROW_GROUP rows whatever the batches were: the same file gives the same bytes at any
        batch size, and the Parquet encoding runs once."""
        target = self.work / f"{name}.parquet"
        with pa.OSFile(str(self.work / f"{name}.arrows")) as src:
            reader = pa.ipc.open_file(src)
            with pq.ParquetWriter(target, reader.schema, compression="zstd") as writer:
                pending, held, written = [], 0, False
                for i in range(reader.num_record_batches):
                    part = reader.get_batch(i)
                    if len(dropped) and part.num_rows:
                        part = part.filter(pc.invert(pc.is_in(part["event_uid"], dropped)))
                    pending.append(part)
                    held += part.num_rows
                    while held >= ROW_GROUP:
                        table = pa.Table.from_batches(pending, reader.schema)
                        writer.write_table(table.slice(0, ROW_GROUP), row_group_size=ROW_GROUP)
                        pending, held, written = table.slice(ROW_GROUP).to_batches(), held - ROW_GROUP, True
                if held or not written:
                    writer.write_table(pa.Table.from_batches(pending, reader.schema), row_group_size=ROW_GROUP)
        self.rows[name] = pq.ParquetFile(target).metadata.num_rows
        (self.work / f"{name}.arrows").unlink()
        return target

"""Run a contract over the raw levels of one file: valid rows, and a reason per invalid row.

Validation is lazy (every failure of every row is collected). A failure tied to a row
sends that row to quarantine; a failure of the frame itself (a column of the wrong
type) rejects the file. A child record whose parent is quarantined goes with it, so
every record of the file ends in exactly one place. The quarantine frame carries the
column, check and reason, and the failing *value* only for operational columns: the
raw value of an identifier or free-text column never leaves this module.
"""
from __future__ import annotations

from dataclasses import dataclass

from contracts.pandera_polars import pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from contracts.base import CODE_LIKE, OPERATIONAL, PERSONAL_TEXT, Contract, parsers, privacy_of
from contracts.readers import MALFORMED, PARENT, ROW, RejectedFile

_CHECK_REASONS = {
    "not_nullable": "required value missing",
    "field_uniqueness": "duplicate id within the file",
}

QUARANTINE_SCHEMA = {
    "level": pl.Utf8, "record": pl.Int64, "parent_record": pl.Int64, "source_id": pl.Utf8,
    "columns": pl.Utf8, "checks": pl.Utf8, "reason": pl.Utf8, "operational_values": pl.Utf8,
}


@dataclass
class Validation:
    valid: dict[str, pl.DataFrame]  #: per level, the valid rows (with a ``_pos`` column)
    quarantine: pl.DataFrame  #: one row per quarantined record, no raw personal value
    read: dict[str, int]
    loaded: dict[str, int]
    quarantined: dict[str, int]

    def move_to_quarantine(self, contract: Contract, top_pos: list[int], reason: str) -> None:
        """Quarantine valid top-level records (and their children) found bad after validation."""
        top = contract.top
        keep = pl.Series(top_pos, dtype=pl.Int64).implode()
        moved = []
        for level, df in self.valid.items():
            hit = pl.col("_pos").is_in(keep) if level == top else pl.col(PARENT).is_in(keep)
            gone = df.filter(hit)
            ids = self.valid[top].select("_pos", pl.col(contract.id_column).alias("source_id"))
            if level == top:
                rec = gone.select(pl.col(ROW).alias("record"), pl.lit(None, pl.Int64).alias("parent_record"),
                                  pl.col(contract.id_column).cast(pl.Utf8).alias("source_id"))
            else:
                parents = self.valid[top].select(pl.col("_pos").alias(PARENT), pl.col(ROW).alias("parent_record"))
                rec = gone.join(parents, on=PARENT, how="left").join(
                    ids.rename({"_pos": PARENT}), on=PARENT, how="left").select(
                    pl.col(ROW).alias("record"), "parent_record", pl.col("source_id").cast(pl.Utf8))
            moved.append(rec.select(pl.lit(level).alias("level"), "record", "parent_record", "source_id",
                                    pl.lit(None, pl.Utf8).alias("columns"),
                                    pl.lit("normalization" if level == top else "parent_quarantined").alias("checks"),
                                    pl.lit(reason if level == top else f"{top} record quarantined").alias("reason"),
                                    pl.lit(None, pl.Utf8).alias("operational_values")))
            self.quarantined[level] += gone.height
            self.loaded[level] -= gone.height
        for level in self.valid:
            hit = pl.col("_pos").is_in(keep) if level == top else pl.col(PARENT).is_in(keep)
            self.valid[level] = self.valid[level].filter(~hit)
        self.quarantine = pl.concat([self.quarantine, *moved], how="vertical_relaxed").cast(QUARANTINE_SCHEMA)


def missing_columns(contract: Contract, levels: dict[str, pl.DataFrame]) -> list[str]:
    return [f"{lvl}.{c}" if len(contract.levels) > 1 else c
            for lvl, sch in contract.levels.items() for c in sch.columns if c not in levels[lvl].columns]


def _failures(level: str, sch: pa.DataFrameSchema, df: pl.DataFrame) -> pl.DataFrame:
    """(pos, column, check, reason, value) per failing cell; raises RejectedFile on frame errors."""
    empty = pl.DataFrame(schema={"pos": pl.Int64, "column": pl.Utf8, "check": pl.Utf8, "reason": pl.Utf8,
                                 "value": pl.Utf8})
    try:
        with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):  # never schema-only, whatever the env
            sch.validate(df, lazy=True)
        return empty
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    frame_level = fc.filter(pl.col("index").is_null())
    if frame_level.height:
        first = frame_level.row(0, named=True)
        raise RejectedFile(f"{level}: column {first['column']} fails {first['check']} "
                           "(wrong type or structure for the whole file)")
    priv = privacy_of(sch)
    # the failing value is kept only for a code from a fixed list (it helps the agency fix its feed and
    # cannot be a person's data); a free-form or patterned value is never kept, whatever its class
    operational = [c for c, p in priv.items() if p == OPERATIONAL and (sch.columns[c].metadata or {}).get("enumerated")]
    reason = pl.col("check").replace(_CHECK_REASONS)
    return fc.select(
        pl.col("index").cast(pl.Int64).alias("pos"),
        pl.col("column").cast(pl.Utf8),
        pl.col("check").cast(pl.Utf8),
        (pl.col("column") + ": " + reason).alias("reason"),
        pl.when(pl.col("column").is_in(operational) & pl.col("failure_case").cast(pl.Utf8).str.contains(CODE_LIKE)
                & ~pl.col("failure_case").cast(pl.Utf8).str.contains(PERSONAL_TEXT))
        .then(pl.col("failure_case").cast(pl.Utf8).str.slice(0, 64)).otherwise(None).alias("value"),
    )


def validate(contract: Contract, levels: dict[str, pl.DataFrame]) -> Validation:
    """Split each level into valid rows and quarantined records (with reasons). Records the reader
    could not parse (``levels[MALFORMED]``: a bad JSON line) are quarantined top-level records too,
    counted as read: every record of the file ends in exactly one place."""
    malformed = levels.get(MALFORMED)
    levels = {k: v for k, v in levels.items() if k != MALFORMED}
    missing = missing_columns(contract, levels)
    if missing:
        raise RejectedFile(f"missing required columns: {', '.join(missing)}")
    top = contract.top
    top_ids = levels[top][contract.id_column]
    bad_pos: dict[str, pl.Series] = {}
    records: list[pl.DataFrame] = []
    for level, sch in contract.levels.items():
        df = levels[level]
        fails = _failures(level, sch, df)
        per_row = fails.group_by("pos", maintain_order=True).agg(
            pl.col("column").unique(maintain_order=True).str.join(";").alias("columns"),
            pl.col("check").unique(maintain_order=True).str.join(";").alias("checks"),
            pl.col("reason").unique(maintain_order=True).str.join("; ").alias("reason"),
            (pl.col("column") + "=" + pl.col("value")).drop_nulls().str.join("; ").alias("operational_values"),
        )
        parent_level = contract.parents.get(level)
        if parent_level is not None and parent_level in bad_pos:
            cascade = df.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("pos"), pl.col(PARENT)).filter(
                pl.col(PARENT).is_in(bad_pos[parent_level].implode()))
            cascade = cascade.select(
                "pos", pl.lit(None, pl.Utf8).alias("columns"), pl.lit("parent_quarantined").alias("checks"),
                pl.lit(f"{parent_level} record quarantined").alias("reason"),
                pl.lit(None, pl.Utf8).alias("operational_values"))
            per_row = (pl.concat([per_row, cascade], how="vertical_relaxed")
                       .group_by("pos", maintain_order=True)
                       .agg(pl.col("columns").drop_nulls().str.join(";"), pl.col("checks").str.join(";"),
                            pl.col("reason").str.join("; "),
                            pl.col("operational_values").drop_nulls().str.join("; ")))
        per_row = per_row.sort("pos")  # quarantine in file order, whatever order the checks reported in
        bad_pos[level] = per_row["pos"]
        parent_pos = df[PARENT] if PARENT in df.columns else None
        idx = per_row["pos"]
        src = top_ids.gather(parent_pos.gather(idx)) if parent_pos is not None else top_ids.gather(idx)
        records.append(per_row.select(
            pl.lit(level).alias("level"),
            pl.Series("record", df[ROW].gather(idx), dtype=pl.Int64),
            pl.Series("parent_record", levels[parent_level][ROW].gather(parent_pos.gather(idx)), dtype=pl.Int64)
            if parent_pos is not None else pl.lit(None, pl.Int64).alias("parent_record"),
            pl.Series("source_id", src, dtype=pl.Utf8),
            "columns", "checks", "reason", "operational_values",
        ))
    if malformed is not None and malformed.height:
        records.insert(0, malformed.select(
            pl.lit(top).alias("level"), pl.col("record").cast(pl.Int64), pl.lit(None, pl.Int64).alias("parent_record"),
            pl.lit(None, pl.Utf8).alias("source_id"), pl.lit(None, pl.Utf8).alias("columns"),
            pl.lit("malformed_record").alias("checks"), pl.col("reason").cast(pl.Utf8),
            pl.lit(None, pl.Utf8).alias("operational_values")))
    quarantine = pl.concat(records, how="vertical_relaxed").cast(QUARANTINE_SCHEMA) if records else pl.DataFrame(
        schema=QUARANTINE_SCHEMA)
    if malformed is not None and malformed.height:  # the unparsed lines among the others, in file order
        order = {lvl: i for i, lvl in enumerate(contract.levels)}
        quarantine = quarantine.sort(pl.col("level").replace_strict(order, return_dtype=pl.Int64),
                                     pl.col("parent_record"), pl.col("record"), nulls_last=False, maintain_order=True)
    valid, read, loaded, quarantined = {}, {}, {}, {}
    for level in contract.levels:
        df = levels[level].with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("_pos"))
        bad = bad_pos[level].implode()
        # each value exactly as the contract read it: typed, parsed once, here
        valid[level] = df.filter(~pl.col("_pos").is_in(bad)).with_columns(
            spec.parse(pl.col(c)).alias(c) for c, spec in parsers(contract.levels[level]).items())
        unparsed = malformed.height if malformed is not None and level == top else 0
        read[level] = df.height + unparsed
        quarantined[level] = bad_pos[level].len() + unparsed
        loaded[level] = valid[level].height
    return Validation(valid, quarantine, read, loaded, quarantined)

"""Complementary (secondary) suppression of the evaluator's indicators.

Primary suppression (``sql/90_evaluator``) withholds every small cell. That alone is not
disclosure control: a withheld cell can often be worked out from what is published, by
subtracting its siblings from their total, or by solving the totals together. This module
withholds more cells until no withheld value can be derived. The method is the classic one
of statistical agencies' table protection (Statistics Canada, Eurostat's tau-argus):

1. **Hypercube rule** (secondary suppression, at least two withheld cells per margin). Each
   additive indicator is a cube: time (quarters, and the fiscal years that sum them: a calendar
   quarter is the same cell in both calendars) x agency (and ALL) x region (and ALL) x detail
   (and ALL). In every line of the cube (the members of one dimension and their total) a
   withheld cell never stands alone: if it does, the smallest published cell of that line
   (least information lost) is withheld too, until every line holds none or at least two.
2. **Linear audit.** The lines are equations (total = sum of members). Solving them all
   together, a withheld cell is *determined* when every solution gives it the same value: the
   unit vector of that cell lies in the row space of the equations over the withheld cells.
   Each connected group of withheld cells is solved on its own (a singular value
   decomposition of its equations); a determined cell gets one more published neighbour
   withheld, and the audit runs again until none is determined.
3. **Linked values.** A share is published with its basis, so share x basis gives its
   numerator back; a cost per interdiction gives the interdictions back. Shares are
   additive in their numerator and their basis, so their own cube is protected like a count;
   and a share or ratio is withheld wherever the count it would reveal is withheld.

Counts, kg, CAD and every basis count are sums over their members, so the same pattern of
withheld cells protects value and basis alike. ``joint_operations`` and ``subjects_linked``
count distinct items (not quite sums): treating them as sums withholds more, never less.
Medians (hours) and costs per interdiction are not sums and are not cube lines.
Every loop runs over aggregate cells (a few thousand), never over records.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from foundation.sqltext import literal
#: value -> the count that, with the value and its published basis, would be recovered
LINKED = {"interception_rate": "gotaways", "radio_pass_rate": "radio_tests_passed",
          "cost_per_interdiction_cad": "interdictions"}
#: not sums over their members: no cube lines (still withheld with the count they link to)
NOT_ADDITIVE = {"median_sharing_latency_hours", "cost_per_interdiction_cad", "spending_variance_pct"}
METHOD = ("complementary suppression: hypercube rule (no line of agencies, regions, quarters or programs "
          "with a single withheld cell) and a linear audit (no withheld cell determined by the published "
          "totals), shares and ratios withheld with the counts they would reveal")
KEYS = ["indicator", "detail", "time", "agency_code", "region_code"]


@dataclass
class Outcome:
    primary: int
    secondary: int
    cells: int


def _cells(df: pl.DataFrame) -> pl.DataFrame:
    """One row per cube cell: quarters keyed by their first day (the same quarter in both calendars)."""
    return df.with_columns(
        pl.when(pl.col("period") == "year").then(pl.col("calendar") + ":" + pl.col("fiscal_year"))
        .otherwise(pl.lit("Q:") + pl.col("period_start").cast(pl.Utf8)).alias("time"),
        pl.col("value").fill_null(0).abs().alias("_size"),
    )


def lines_of(cells: pl.DataFrame, years: dict[str, tuple[str, str]]) -> list[list[int]]:
    """Each additive line as [total cell, member cells...] (row indices of ``cells``)."""
    rows = list(zip(*(cells[k].to_list() for k in KEYS)))
    groups: dict[tuple, list[int]] = defaultdict(list)
    totals: dict[tuple, int] = {}
    quarters: dict[tuple, list[tuple[str, int]]] = defaultdict(list)
    for i, (ind, det, time, ag, reg) in enumerate(rows):
        if ind in NOT_ADDITIVE:
            continue
        for key, is_total in ((("agency", ind, det, time, reg), ag == "ALL"),
                              (("region", ind, det, time, ag), reg == "ALL")):
            if is_total:
                totals[key] = i
            else:
                groups[key].append(i)
        if det != "":
            key = ("detail", ind, time, ag, reg)
            if det == "ALL":
                totals[key] = i
            else:
                groups[key].append(i)
        if time.startswith("Q:"):
            quarters[(ind, det, ag, reg)].append((time[2:], i))
    lines = [[totals[k], *members] for k, members in groups.items() if k in totals]
    for i, (ind, det, time, ag, reg) in enumerate(rows):  # a fiscal year sums the quarters starting in it
        if time in years and ind not in NOT_ADDITIVE:
            lo, hi = years[time]
            members = [j for start, j in quarters[(ind, det, ag, reg)] if lo <= start <= hi]
            if members:
                lines.append([i, *members])
    return lines


class Cube:
    """The withheld pattern over the cells and the lines through each cell."""

    def __init__(self, hidden: np.ndarray, size: np.ndarray, lines: list[list[int]]):
        self.hidden, self.size, self.lines = hidden, size, lines
        self.through: list[list[int]] = [[] for _ in range(len(hidden))]
        for n, line in enumerate(lines):
            for c in line:
                self.through[c].append(n)

    def _smallest_open(self, line: list[int]) -> int | None:
        open_ = [c for c in line if not self.hidden[c]]
        return min(open_, key=lambda c: (self.size[c], c == line[0])) if open_ else None  # members first

    def withhold(self, cell: int) -> None:
        self.hidden[cell] = True

    def hypercube(self) -> None:
        """Until no line holds exactly one withheld cell (a worklist over the lines, not full passes)."""
        count = np.array([sum(bool(self.hidden[c]) for c in ln) for ln in self.lines], dtype=np.int64)
        todo = [n for n in range(len(self.lines)) if count[n] == 1 and len(self.lines[n]) > 1]
        while todo:
            n = todo.pop()
            if count[n] != 1:
                continue
            pick = self._smallest_open(self.lines[n])
            if pick is None:
                continue
            self.hidden[pick] = True
            for m in self.through[pick]:
                count[m] += 1
                if count[m] == 1 and len(self.lines[m]) > 1:
                    todo.append(m)

    def groups(self) -> list[list[int]]:
        """Withheld cells that share equations, as connected groups (union-find over the lines)."""
        parent: dict[int, int] = {}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for c in np.flatnonzero(self.hidden):
            parent[int(c)] = int(c)
        for line in self.lines:
            members = [c for c in line if self.hidden[c]]
            for a, b in zip(members, members[1:]):
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[ra] = rb
        out: dict[int, list[int]] = defaultdict(list)
        for c in parent:
            out[find(c)].append(c)
        return list(out.values())

    def determined(self) -> list[int]:
        """Withheld cells whose value the published totals fix (the linear audit)."""
        fixed: list[int] = []
        for group in self.groups():
            pos = {c: k for k, c in enumerate(group)}
            line_ids = sorted({n for c in group for n in self.through[c]})
            rows = []
            for n in line_ids:
                line = self.lines[n]
                row = np.zeros(len(group))
                for k, c in enumerate(line):
                    if self.hidden[c]:
                        row[pos[c]] += 1.0 if k == 0 else -1.0
                if row.any():
                    rows.append(row)
            if not rows:
                fixed.extend(group)  # pragma: no cover - a withheld cell always sits on a line of its cube
                continue
            a = np.vstack(rows)
            _, s, vt = np.linalg.svd(a)
            rank = int((s > 1e-9 * max(a.shape)).sum())
            null = vt[rank:]
            free = np.any(np.abs(null) > 1e-9, axis=0) if len(null) else np.zeros(len(group), dtype=bool)
            fixed.extend(c for k, c in enumerate(group) if not free[k])
        return fixed

    def open_neighbour(self, cell: int) -> int | None:
        """The smallest published cell on a line through ``cell`` (None when every line is withheld)."""
        best = None
        for n in self.through[cell]:
            pick = self._smallest_open(self.lines[n])
            if pick is not None and (best is None or self.size[pick] < self.size[best]):
                best = pick
        return best


def _linked_pairs(unique: pl.DataFrame) -> list[tuple[int, int]]:
    """(value cell, count cell) pairs: the value is withheld whenever its count is."""
    indexed = unique.with_row_index("_i")
    pairs = []
    for value, count in LINKED.items():
        joined = indexed.filter(pl.col("indicator") == value).join(
            indexed.filter(pl.col("indicator") == count).drop("indicator"),
            on=["detail", "time", "agency_code", "region_code"], suffix="_count")
        pairs += list(zip(joined["_i"].to_list(), joined["_i_count"].to_list()))
    return pairs


def protect(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` (the evaluator's mart_indicators after primary suppression) with complementary suppression."""
    cells = _cells(df)
    unique = cells.group_by(KEYS, maintain_order=True).agg(pl.col("suppressed").any(), pl.col("_size").max())
    years = {f"{c}:{fy}": (str(s), str(e)) for c, fy, s, e in df.filter(pl.col("period") == "year").select(
        "calendar", "fiscal_year", "period_start", "period_end").unique().iter_rows()}
    cube = Cube(unique["suppressed"].to_numpy().copy(), unique["_size"].to_numpy(), lines_of(unique, years))
    linked = _linked_pairs(unique)
    for _ in range(10_000):
        cube.hypercube()
        for value, count in linked:
            if cube.hidden[count]:
                cube.hidden[value] = True
        fixed = cube.determined()
        opened = [n for n in (cube.open_neighbour(c) for c in fixed) if n is not None]
        if not opened:
            break
        for n in opened:
            cube.withhold(n)
    else:  # pragma: no cover - each round withholds at least one more cell, so this ends
        raise RuntimeError("complementary suppression did not converge")
    flags = unique.select(KEYS).with_columns(pl.Series("_hide", cube.hidden))
    out = cells.join(flags, on=KEYS, how="left", nulls_equal=True).with_columns(
        (pl.col("suppressed") | pl.col("_hide")).alias("suppressed"))
    return out.with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("value")).alias("value"),
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("basis_count")).alias("basis_count"),
    ).drop("time", "_size", "_hide").select(df.columns)


def apply(con: duckdb.DuckDBPyConnection, threshold: int) -> Outcome:
    """Rewrite the evaluator's ``mart_indicators`` (in the connection's current database) with protection,
    and record what was done in ``meta_suppression`` (the legend readers and reports show)."""
    df = con.sql("SELECT * FROM mart_indicators").pl()
    primary = int(df["suppressed"].sum())
    protected = protect(df)
    con.register("_protected", protected.to_arrow())
    con.execute("UPDATE mart_indicators AS m SET value = p.value, basis_count = p.basis_count, "
                "suppressed = p.suppressed FROM _protected AS p WHERE m.calendar = p.calendar AND "
                "m.fiscal_year = p.fiscal_year AND m.period = p.period AND m.agency_code = p.agency_code AND "
                "m.region_code = p.region_code AND m.indicator = p.indicator AND m.detail = p.detail")
    con.unregister("_protected")
    outcome = Outcome(primary, int(protected["suppressed"].sum()) - primary, df.height)
    con.execute("CREATE OR REPLACE TABLE meta_suppression AS SELECT ? AS method, ? AS threshold, ? AS cells, "
                "? AS primary_suppressed, ? AS secondary_suppressed",
                [METHOD, threshold, outcome.cells, outcome.primary, outcome.secondary])
    for column, text in META_COMMENTS.items():
        con.execute(f"COMMENT ON COLUMN meta_suppression.{column} IS {literal(text)}")
    con.execute(f"COMMENT ON TABLE meta_suppression IS {literal('How the evaluator file withholds cells (the legend of mart_indicators.suppressed).')}")
    return outcome


META_COMMENTS = {
    "method": "The disclosure-control method applied to mart_indicators.",
    "threshold": "Counts, and values resting on fewer records, below this are withheld (primary suppression).",
    "cells": "Cells of mart_indicators (all periods, both calendars).",
    "primary_suppressed": "Cells withheld because they are small themselves.",
    "secondary_suppressed": "Cells withheld so that no small cell can be worked out from published totals.",
}


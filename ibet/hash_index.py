"""Many batches looked up in one fixed set of strings: the set's 64-bit hashes sorted once, each batch
found by binary search (numpy) and confirmed on the value itself.

``Series.is_in`` or a join would hash the whole set again for every batch: a re-sent day's five
million event ids, or a million repeated ids, over a hundred batches made that the cost of ingest.
Values that share a hash are each compared: a run of equal hashes is walked one step at a time for
the whole batch at once (runs are one long but for a collision), never one row at a time.
"""
from __future__ import annotations

import numpy as np
import polars as pl


class HashIndex:
    """The positions of a fixed set of strings, by value."""

    def __init__(self, values: pl.Series):
        values = values.cast(pl.Utf8)
        hashes = values.hash(seed=0)
        order = hashes.arg_sort()
        self.order = order.to_numpy()
        self.hashes = hashes.gather(order).to_numpy()
        # gathered by a polars index, not a numpy one: polars reads a numpy index through numpy.ma,
        # 0.1 s of import that every ingest paid (an empty index is made for every file)
        self.values = values.gather(order)

    @classmethod
    def empty(cls) -> "HashIndex":
        return cls(pl.Series([], dtype=pl.Utf8))

    def __len__(self) -> int:
        return len(self.hashes)

    def find(self, s: pl.Series) -> np.ndarray:
        """The position in the indexed values of each value of ``s``; -1 where it is absent or null."""
        found = np.full(len(s), -1, dtype=np.int64)
        if not len(self.hashes) or not len(s):
            return found
        s = s.cast(pl.Utf8)
        h = s.hash(seed=0).to_numpy()
        lo, hi = np.searchsorted(self.hashes, h, "left"), np.searchsorted(self.hashes, h, "right")
        todo = np.flatnonzero((lo < hi) & s.is_not_null().to_numpy())
        step = 0
        while len(todo):
            at = lo[todo] + step
            same = (self.values.gather(at) == s.gather(todo)).fill_null(False).to_numpy()
            found[todo[same]] = self.order[at[same]]
            todo = todo[~same & (at + 1 < hi[todo])]
            step += 1
        return found

    def contains(self, s: pl.Series) -> pl.Series:
        """Whether each value of ``s`` is in the set (null: never)."""
        return pl.Series(self.find(s) >= 0)

"""Mutants argued equivalent, each with its argument (benchmarks/RESULTS.md gives them in full).

The harness proves some equivalents itself (annotations, the privacy probe). These it cannot: they rest on
invariants of the code or of the domain. Each entry names the module, the exact source line and the
mutation operators; a survivor matching one is reported as *equivalent (declared)* with the reason. When
the line changes, the entry stops matching and its mutants count as survivors again: an argument never
outlives the code it was made about.
"""
from __future__ import annotations

SUPPRESSION = "warehouse/suppression.py"
_WORKLIST = ("the worklist is filtered again when a line is popped (count == 1), every line holds a total and "
             "at least one member, counts only grow, and a line of two cells starts with 0 or 2 withheld (its "
             "total equals its member)")
_SIGNS = ("a cell's sign (or scale 2^n) by its number n of total coordinates turns every equation into the "
          "original up to its sign or scale, which leaves each cell's determinedness unchanged")
VALIDATE = "contracts/validate.py"
_EQ_TOP_OPS = ("ReplaceComparisonOperator_Eq_Is", "ReplaceComparisonOperator_Eq_LtE")
_TOP = ("top is a key of the same dict (the same string object), and every contract's child levels sort "
        "after its top level")
_ORDER = "the rows are sorted by position (or level, parent, record) right after, on keys that are unique"
_UNIQUE = ("polars' unique keeps first-seen order for lists of this size with or without the flag (checked: "
           "12 distinct names in one group); it orders names inside one reason string, never which records go")
_NUMERIC = "singular values of these small integer systems are ~0 or far above the 1e-9 threshold"

#: (module, stripped source line, operators) -> reason
DECLARED: list[tuple[str, str, tuple[str, ...], str]] = [
    (SUPPRESSION, 'pl.when(pl.col("period") == "year").then(pl.col("calendar") + ":" + pl.col("fiscal_year"))',
     ("ReplaceComparisonOperator_Eq_GtE",), "periods are year and Q1-Q4, which sort before 'year'"),
    (SUPPRESSION, 'years = {f"{c}:{fy}": (str(s), str(e)) for c, fy, s, e in df.filter(pl.col("period") == '
                  '"year").select(', ("ReplaceComparisonOperator_Eq_GtE",),
     "periods are year and Q1-Q4, which sort before 'year'"),
    (SUPPRESSION, 'pl.col("value").fill_null(0).abs().alias("_size"),', ("NumberReplacer",),
     "only withheld cells lack a value, and a withheld cell's size is never used"),
    (SUPPRESSION, 'if det != "":', ("ReplaceComparisonOperator_NotEq_Gt", "ReplaceComparisonOperator_NotEq_GtE",
                                    "ReplaceComparisonOperator_NotEq_IsNot"),
     "> '' is != ''; a detail line without an ALL total is dropped; '' is one object in CPython"),
    (SUPPRESSION, "members = [j for start, j in quarters[(ind, det, ag, reg)] if lo <= start <= hi]",
     ("ReplaceComparisonOperator_LtE_Lt",), "no quarter starts on a fiscal year's last day"),
    (SUPPRESSION, "return min(open_, key=lambda c: (self.size[c], c == line[0])) if open_ else None  # members "
                  "first", ("ReplaceComparisonOperator_Eq_Is",), "c and line[0] are the same int object"),
    (SUPPRESSION, "todo = [n for n in range(len(self.lines)) if count[n] == 1 and len(self.lines[n]) > 1]",
     ("NumberReplacer", "ReplaceAndWithOr", "ReplaceComparisonOperator_Eq_GtE", "ReplaceComparisonOperator_Eq_LtE",
      "ReplaceComparisonOperator_Gt_GtE", "ReplaceComparisonOperator_Gt_NotEq"), _WORKLIST),
    (SUPPRESSION, "if count[n] != 1:", ("ReplaceComparisonOperator_NotEq_Gt",), _WORKLIST),
    (SUPPRESSION, "if count[m] == 1 and len(self.lines[m]) > 1:",
     ("ReplaceAndWithOr", "ReplaceComparisonOperator_Eq_GtE", "ReplaceComparisonOperator_Eq_LtE",
      "ReplaceComparisonOperator_Gt_GtE", "ReplaceComparisonOperator_Gt_NotEq"), _WORKLIST),
    (SUPPRESSION, "while parent[x] != x:", ("ReplaceComparisonOperator_NotEq_IsNot",),
     "find stops at the stored root object, equal to the root"),
    (SUPPRESSION, "if ra != rb:", ("ReplaceComparisonOperator_NotEq_IsNot",), "joining a root to itself changes nothing"),
    (SUPPRESSION, "row[pos[c]] += 1.0 if k == 0 else -1.0",
     ("AddNot", "ReplaceComparisonOperator_Eq_NotEq", "ReplaceComparisonOperator_Eq_Gt",
      "ReplaceComparisonOperator_Eq_GtE", "ReplaceComparisonOperator_Eq_Lt", "ReplaceComparisonOperator_Eq_LtE",
      "ReplaceUnaryOperator_USub_UAdd", "ReplaceUnaryOperator_Delete_USub", "NumberReplacer"),
     _SIGNS + " (the 0-coefficient replacements are killed by the safe-pattern test)"),
    (SUPPRESSION, "rank = int((s > 1e-9 * max(a.shape)).sum())",
     ("ReplaceBinaryOperator_Mul_Div", "ReplaceBinaryOperator_Mul_Mod", "ReplaceComparisonOperator_Gt_GtE"), _NUMERIC),
    (SUPPRESSION, "free = np.any(np.abs(null) > 1e-9, axis=0) if len(null) else np.zeros(len(group), dtype=bool)",
     ("ReplaceComparisonOperator_Gt_GtE",), _NUMERIC),
    (SUPPRESSION, "for _ in range(10_000):", ("NumberReplacer",), "the iteration cap is never reached"),
    (SUPPRESSION, 'out = cells.join(flags, on=KEYS, how="left", nulls_equal=True).with_columns(',
     ("ReplaceTrueWithFalse",), "the keys are never null"),
    # contracts/validate.py
    *[(VALIDATE, src, _EQ_TOP_OPS, _TOP) for src in (
        'hit = pl.col("_pos").is_in(keep) if level == top else pl.col(PARENT).is_in(keep)',
        "if level == top:",
        'pl.lit("normalization" if level == top else "parent_quarantined").alias("checks"),',
        'pl.lit(reason if level == top else f"{top} record quarantined").alias("reason"),',
        "unparsed = malformed.height if malformed is not None and level == top else 0")],
    (VALIDATE, 'return [f"{lvl}.{c}" if len(contract.levels) > 1 else c',
     ("ReplaceComparisonOperator_Gt_NotEq",), "every contract has at least one level"),
    (VALIDATE, 'operational = [c for c, p in priv.items() if p == OPERATIONAL and (sch.columns[c].metadata or '
               '{}).get("enumerated")]',
     ("ReplaceComparisonOperator_Eq_Is", "ReplaceComparisonOperator_Eq_LtE"),
     "privacy classes are interned module constants, and no identifier or free-text column is enumerated"),
    (VALIDATE, "levels = {k: v for k, v in levels.items() if k != MALFORMED}",
     ("ReplaceComparisonOperator_NotEq_IsNot", "ReplaceComparisonOperator_NotEq_Gt",
      "ReplaceComparisonOperator_NotEq_GtE"),
     "the reader's key is the interned constant itself, and every level name sorts after '_'"),
    (VALIDATE, '.then(pl.col("failure_case").cast(pl.Utf8).str.slice(0, 64)).otherwise(None).alias("value"),',
     ("NumberReplacer",), "a kept value matches CODE_LIKE, a short code: a cut at 63 or 65 characters never bites"),
    *[(VALIDATE, src, ("ReplaceTrueWithFalse",), _ORDER) for src in (
        'per_row = fails.group_by("pos", maintain_order=True).agg(',
        '.group_by("pos", maintain_order=True)',
        'pl.col("parent_record"), pl.col("record"), nulls_last=False, maintain_order=True)')],
    *[(VALIDATE, src, ("ReplaceTrueWithFalse",), _UNIQUE) for src in (
        'pl.col("column").unique(maintain_order=True).str.join(";").alias("columns"),',
        'pl.col("check").unique(maintain_order=True).str.join(";").alias("checks"),',
        'pl.col("reason").unique(maintain_order=True).str.join("; ").alias("reason"),')],
    (VALIDATE, 'pl.col("parent_record"), pl.col("record"), nulls_last=False, maintain_order=True)',
     ("ReplaceFalseWithTrue",), "within one level parent_record is null for every row (the top level, unparsed "
                                "lines included) or for none (child levels): where nulls sort never matters"),
    (VALIDATE, "if parent_level is not None and parent_level in bad_pos:", ("ReplaceAndWithOr",),
     "contract levels are ordered parents first, so a parent level is always in bad_pos when a child is checked"),
    (VALIDATE, "records.insert(0, malformed.select(", ("NumberReplacer",),
     "the quarantine is sorted into file order right after, wherever the unparsed lines were inserted"),
]
#: ``continue`` lines are told apart by the line before them
DECLARED_AFTER: list[tuple[str, str, str, tuple[str, ...], str]] = [
    (SUPPRESSION, "if pick is None:", "continue", ("ReplaceContinueWithBreak",),
     "unreachable: a popped line holds exactly one withheld cell and at least two cells"),
    (SUPPRESSION, "fixed.extend(group)  # pragma: no cover - a withheld cell always sits on a line of its cube",
     "continue", ("ReplaceContinueWithBreak",), "unreachable: a withheld cell always sits on a line of its cube"),
]


def declared_reason(module: str, source: list[str], line: int, operator: str) -> str | None:
    """The argument for a survivor at ``line`` (1-based) of ``module`` by ``operator``, if one is declared."""
    text = source[line - 1].strip() if 0 < line <= len(source) else ""
    before = source[line - 2].strip() if line > 1 else ""
    for mod, src, ops, reason in DECLARED:
        if mod == module and src == text and operator in ops:
            return reason
    for mod, prev, src, ops, reason in DECLARED_AFTER:
        if mod == module and src == text and prev == before and operator in ops:
            return reason
    return None

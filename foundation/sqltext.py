"""Quoting text into DuckDB SQL: the one place that escapes names and literals.

Most statements bind values as parameters; these two cover what DuckDB cannot bind
(table and column names, ATTACH paths, COMMENT texts, literals inside generated views),
so every module escapes them the same way.
"""
from __future__ import annotations


def identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str | None) -> str:
    """``text`` as a single-quoted SQL string literal; None becomes ``''``."""
    return "'" + (text or "").replace("'", "''") + "'"

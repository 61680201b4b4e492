"""Find raw identifiers or free text in outputs, reading Parquet and DuckDB as data (they compress)."""
from __future__ import annotations

import unicodedata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

NARRATIVE_MARKERS = ["Patrol observed", "Follow-up, see file", "Officer notes", "refused to answer",
                     "Case summary", "Boarded vessel", "cooperative"]


def fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def needles(truth: dict) -> set[str]:
    """Raw identifier values of the synthetic persons, in every spelling the agencies use."""
    out: set[str] = set(NARRATIVE_MARKERS)
    for f in truth["files"]:  # personal values the generator planted as defects (badly formatted on purpose)
        out |= {v for v in f.get("planted", []) if len(v) >= 5}
    for p in truth["persons"]:
        dob = str(p["dob"])
        y, m, d = dob.split("-")
        for v in (p["surname"], fold(p["surname"]).upper(), p["passport_no"], p["a_number"], p["plate"], p["hin"],
                  f"{p['plate'][:3]} {p['plate'][3:]}", f"{p['plate'][:3]}-{p['plate'][3:]}",
                  f"{p['passport_no'][:2]}-{p['passport_no'][2:]}", f"{p['passport_no'][:2].lower()} {p['passport_no'][2:]}",
                  f"{p['given']} {p['surname']}", f"{p['surname']}, {p['given']}", dob, f"{m}/{d}/{y}", f"{d}/{m}/{y}"):
            if len(v) >= 5:
                out.add(v)
    return out


def text_of(path: Path) -> str:
    """Every string a file holds: Parquet/DuckDB cells and names, else the raw bytes."""
    if path.suffix == ".parquet":
        t = pq.read_table(path)
        parts = [" ".join(t.column_names), str(t.schema.metadata or {})]
        for col in t.columns:
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                parts.append("\n".join(v for v in col.to_pylist() if v is not None))
        return "\n".join(parts)
    if path.suffix == ".duckdb":
        import duckdb

        con = duckdb.connect(str(path), read_only=True)
        # the catalog too: view and macro definitions, comments
        parts = [str(v) for row in con.sql("SELECT sql FROM duckdb_views() WHERE NOT internal UNION ALL "
                                           "SELECT macro_definition FROM duckdb_functions() WHERE NOT internal "
                                           "UNION ALL SELECT comment FROM duckdb_tables() UNION ALL SELECT comment "
                                           "FROM duckdb_columns()").fetchall() for v in row if v]
        for (schema, table) in con.sql("SELECT schema_name, table_name FROM duckdb_tables()").fetchall():
            cols = con.sql(f"SELECT column_name FROM duckdb_columns() WHERE schema_name = '{schema}' "
                           f"AND table_name = '{table}' AND data_type = 'VARCHAR'").fetchall()
            for (c,) in cols:
                parts += [str(v) for (v,) in con.sql(f'SELECT DISTINCT "{c}" FROM "{schema}"."{table}"').fetchall()]
        con.close()
        return "\n".join(parts)
    return path.read_bytes().decode("utf-8", errors="ignore")


def leaks(root: Path, truth: dict) -> list[tuple[str, str]]:
    """(file, needle) for every raw value found under ``root``."""
    found = []
    ns = needles(truth)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        text = text_of(path)
        found += [(str(path), n) for n in ns if n in text]
    return found

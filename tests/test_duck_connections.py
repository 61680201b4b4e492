"""Batch code connects to DuckDB with its progress bar off: DuckDB draws the bar on stdout for any query over
two seconds, terminal or not, and stdout is where ``ibet ingest --format json`` writes its result (a big
file's cross-batch duplicate search, or a busy machine, would have put a bar in front of the JSON)."""
from __future__ import annotations

import re
from pathlib import Path

from foundation import duck, privacy

ROOT = Path(__file__).resolve().parents[1]
#: where a bare ``duckdb.connect`` is right: the helper itself, analysts' own sessions (the bar is theirs),
#: and a one-statement check of DuckDB's accent folding at import of the character tables
ALLOWED = {"foundation/duck.py": 1, "warehouse/access.py": 1, "foundation/privacy.py": 1}


def _progress_bar(con) -> bool:
    return con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]


def test_batch_connections_have_no_progress_bar():
    assert _progress_bar(duck.connect()) is False
    assert _progress_bar(privacy.connect(b"k" * 32)) is False  # every ingest's pseudonym connection


def test_no_other_bare_connect_in_the_product():
    found: dict[str, int] = {}
    for folder in ("foundation", "contracts", "transforms", "warehouse", "ibet", "dags"):
        for path in (ROOT / folder).rglob("*.py"):
            n = len(re.findall(r"\bduckdb\.connect\(", path.read_text(encoding="utf-8")))
            if n:
                found[path.relative_to(ROOT).as_posix()] = n
    assert found == ALLOWED

"""The scale benchmark runs end to end on a tiny month (its figures are not asserted: benchmarks are
not timed tests). It wraps the build's SQL runners to time each file; a change of their signatures
must break this test, not the next `make bench`."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_scale_benchmark_builds_a_month_and_one_more_day(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "ibet.benchmarks.scale", "--days", "2", "--rows", "40",
                          "--agencies", "rcmp,cbsa"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {m.group(1): m.group(2).split(" | ") for m in
            re.finditer(r"^\| (full \(the month\)|one more day) \| (.*) \|$", run.stdout, re.M)}
    assert set(rows) == {"full (the month)", "one more day"}, run.stdout
    assert rows["full (the month)"][1] == "all (full)"
    assert int(rows["one more day"][1].replace(",", "")) > 0  # built incrementally: some events redone
    for cells in rows.values():
        stage, files, facts, marts, gate, publish, total = map(float, cells[2:])
        assert facts > 0 and marts > 0 and gate > 0 and total >= files
    # every way a build runs SQL was timed, the incremental one too (marts rerun, facts refreshed)
    slowest = dict(re.findall(r"^- (full|one more day): (.*)$", run.stdout, re.M))
    assert "20_facts/" in slowest["full"] and "30_marts/" in slowest["full"]
    assert "30_marts/" in slowest["one more day"]


def test_every_hand_written_mutant_still_finds_its_text():
    """``make mutation`` replaces each mutant's text, which must occur exactly once: a mutant whose text
    the code no longer holds would silently test nothing."""
    from ibet.benchmarks.sql_mutants import SQL_MUTANTS

    root = Path(__file__).resolve().parents[1]
    for m in SQL_MUTANTS:
        assert (root / m.file).read_text().count(m.old) == 1, (m.file, m.what)

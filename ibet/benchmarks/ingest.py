"""Benchmark: whole-process ingest of each agency's file against DuckDB's bare copy of the same file.

    python -m ibet.benchmarks.ingest [--rows 500000] [--agencies rcmp,cbsa,cbp,ice,uscg] [--small 200]

For each agency, one day of ``--rows`` records is generated to the ICD. Then, in the same run and
on the same file, two whole processes are timed:

- the reference: a Python process doing DuckDB's bare ``COPY (SELECT * FROM read_csv / read_json /
  read_parquet(file)) TO 'x.parquet'`` (no validation, no pseudonyms, no quarantine);
- ``ibet ingest AGENCY FILE --format json``: read, contract, quarantine, pseudonymize, normalize, write.

Each child's wall time and peak RSS come from ``os.wait4`` (the child's own rusage, not the
parent's). The ratio is ingest / bare copy; "overall" is the sum over the agencies that have a
reference (DuckDB has no XML reader: USCG's row shows its figures without a ratio). Last, the
start-up cost: ``ibet ingest`` of a ``--small``-record file. Prints one Markdown table (paste it
into ``benchmarks/RESULTS.md``).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DAY = dt.date(2026, 11, 3)
#: DuckDB's reader for each agency's format (the bare-copy reference)
READERS = {
    "rcmp": "read_csv('{f}', all_varchar = true)",
    "cbp": "read_csv('{f}', delim = '|', all_varchar = true)",
    "cbsa": "read_json('{f}', format = 'newline_delimited')",
    "ice": "read_parquet('{f}')",
}


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS MB, exit code, stdout) of one child process."""
    out = tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    return seconds, usage.ru_maxrss // 1024, proc.returncode, out.read().decode()


def bare_copy(agency: str, path: Path, target: Path, env: dict[str, str]) -> tuple[float, int] | None:
    if agency not in READERS:
        return None
    sql = f"COPY (SELECT * FROM {READERS[agency].format(f=path)}) TO '{target}' (FORMAT parquet)"
    seconds, rss, code, _ = _run([sys.executable, "-c", f"import duckdb; duckdb.sql({sql!r})"], env)
    if code != 0:
        raise RuntimeError(f"the bare copy of {path.name} failed (exit {code})")
    return seconds, rss


def ingest(agency: str, path: Path, env: dict[str, str]) -> tuple[float, int, dict]:
    ibet = str(Path(sys.executable).with_name("ibet"))
    seconds, rss, code, out = _run([ibet, "ingest", agency, str(path), "--format", "json"], env)
    if code not in (0, 4):
        raise RuntimeError(f"ibet ingest {agency} {path.name} failed (exit {code})")
    return seconds, rss, json.loads(out)


def _generate(inbox: Path, rows: int, agencies: list[str], env: dict[str, str]) -> None:
    code = ("import datetime as dt, sys; from pathlib import Path; from ibet.generator import generate; "
            f"generate(Path(sys.argv[1]), dt.date({DAY.year}, {DAY.month}, {DAY.day}), 1, int(sys.argv[2]), "
            "seed=1, dirty_rate=0.01, agencies_=sys.argv[3].split(','))")
    subprocess.run([sys.executable, "-c", code, str(inbox), str(rows), ",".join(agencies)], env=env, check=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=500_000, help="records per agency-day")
    ap.add_argument("--agencies", default="rcmp,cbsa,cbp,ice,uscg")
    ap.add_argument("--small", type=int, default=200, help="records of the start-up measurement's file")
    a = ap.parse_args(argv)
    agencies = a.agencies.split(",")
    work = Path(tempfile.mkdtemp(prefix="ibet-bench-"))
    env = {**os.environ, "IBET_HOME": str(work / "home"), "IBET_PSEUDONYM_KEY": secrets.token_hex(32)}
    subprocess.run([str(Path(sys.executable).with_name("ibet")), "init", str(work / "home"), "--no-key"], env=env,
                   check=True, capture_output=True)
    t = time.perf_counter()
    _generate(work / "big", a.rows, agencies, env)
    _generate(work / "small", a.small, agencies, env)
    print(f"generated {a.rows:,} records per agency in {time.perf_counter() - t:.0f} s ({platform.node()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()})", file=sys.stderr)
    truth = json.loads((work / "big" / "_ground_truth.json").read_text())
    rows = ["| agency | file | MB | records | bare copy s | ingest s | ratio | records/s | peak RSS MB |",
            "|---|---|---|---|---|---|---|---|---|"]
    total_bare = total_ingest = 0.0
    for f in truth["files"]:
        if f["agency"] == "program" or f["agency"] not in agencies:
            continue
        path = work / "big" / f["agency"] / f["file"]
        ref = bare_copy(f["agency"], path, work / f"{f['agency']}.bare.parquet", env)
        seconds, rss, result = ingest(f["agency"], path, env)
        ratio, bare = "—", "—"
        if ref:
            total_bare += ref[0]
            total_ingest += seconds
            ratio, bare = f"{seconds / ref[0]:.1f}", f"{ref[0]:.1f}"
        rows.append(f"| {f['agency']} | {path.suffix} | {path.stat().st_size / 2**20:.0f} | {result['rows_read']:,} "
                    f"| {bare} | {seconds:.1f} | {ratio} | {int(result['rows_read'] / seconds):,} | {rss:,} |")
        print(rows[-1], file=sys.stderr, flush=True)
    if total_bare:
        rows.append(f"| **overall** (with a reference) | | | | {total_bare:.1f} | {total_ingest:.1f} | "
                    f"**{total_ingest / total_bare:.1f}** | | |")
    small = sorted((work / "small" / "rcmp").glob("*.csv"))[0]
    start = ingest("rcmp", small, env)
    rows.append("")
    rows.append(f"Start-up: `ibet ingest rcmp` of a {a.small}-record file: **{start[0]:.2f} s** whole process, "
                f"peak RSS {start[1]:,} MB.")
    print("\n".join(rows))


if __name__ == "__main__":
    main()

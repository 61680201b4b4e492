"""Benchmark: whole-process ingest of each agency's file against DuckDB's bare copy of the same file.

    python -m ibet.benchmarks.ingest [--rows 500000] [--agencies rcmp,cbsa,cbp,ice,uscg] [--small 200]
                                     [--flat-rows 5000000] [--scale-days 30] [--scale-rows 100000]

For each agency, one day of ``--rows`` records is generated to the ICD. Then, in the same run and
on the same file, two whole processes are timed:

- the reference: a Python process doing DuckDB's bare ``COPY (SELECT * FROM read_csv / read_json /
  read_parquet(file)) TO 'x.parquet'`` (no validation, no pseudonyms, no quarantine);
- ``ibet ingest AGENCY FILE --format json``: read, contract, quarantine, pseudonymize, normalize, write.

Each child's wall time and peak RSS come from ``os.wait4`` (the child's own rusage, not the
parent's). The ratio is ingest / bare copy; "overall" is the sum over the agencies that have a
reference (DuckDB has no XML reader: USCG's row shows its figures without a ratio). Last, the
start-up cost: ``ibet ingest`` of a ``--small``-record file. Then the flat-memory check: the same
ingest at ``--flat-rows`` records (peak RSS against the first run's), and the scale build
(``ibet.benchmarks.scale``): a month of every agency built, audited and published in full, then one
more day added. Prints Markdown (paste it into ``benchmarks/RESULTS.md``).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import shutil
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


def _ingest_table(work: Path, folder: str, agencies: list[str], env: dict[str, str], with_reference: bool
                  ) -> tuple[list[str], dict[str, tuple[float, int, int]], float, float]:
    """One row per agency file of ``folder``: (rows, {agency: (seconds, peak RSS MB, records)}, bare, ingest)."""
    # the files from the folder, not from the generator's ground truth: parsed, that JSON would weigh
    # gigabytes at millions of records, and a child forked from a big parent reports the parent's peak
    # RSS as its own (Linux carries it across exec)
    files = [{"agency": p.parent.name, "file": p.name} for p in sorted((work / folder).glob("*/*"))
             if p.parent.name in agencies and p.is_file()]
    rows = ["| agency | file | MB | records | bare copy s | ingest s | ratio | records/s | peak RSS MB |",
            "|---|---|---|---|---|---|---|---|---|"]
    figures: dict[str, tuple[float, int, int]] = {}
    total_bare = total_ingest = 0.0
    for f in files:
        path = work / folder / f["agency"] / f["file"]
        ref = bare_copy(f["agency"], path, work / f"{f['agency']}.bare.parquet", env) if with_reference else None
        seconds, rss, result = ingest(f["agency"], path, env)
        figures[f["agency"]] = (seconds, rss, result["rows_read"])
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
    return rows, figures, total_bare, total_ingest


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=500_000, help="records per agency-day")
    ap.add_argument("--agencies", default="rcmp,cbsa,cbp,ice,uscg")
    ap.add_argument("--small", type=int, default=200, help="records of the start-up measurement's file")
    ap.add_argument("--flat-rows", type=int, default=5_000_000,
                    help="records per agency-day of the flat-memory run (0: skip it)")
    ap.add_argument("--scale-days", type=int, default=30, help="days of the scale build (0: skip it)")
    ap.add_argument("--scale-rows", type=int, default=100_000, help="records per agency-day of the scale build")
    a = ap.parse_args(argv)
    agencies = a.agencies.split(",")
    work = Path(tempfile.mkdtemp(prefix="ibet-bench-"))
    env = {**os.environ, "IBET_HOME": str(work / "home"), "IBET_PSEUDONYM_KEY": secrets.token_hex(32)}
    subprocess.run([str(Path(sys.executable).with_name("ibet")), "init", str(work / "home"), "--no-key"], env=env,
                   check=True, capture_output=True)
    t = time.perf_counter()
    _generate(work / "big", a.rows, agencies, env)
    _generate(work / "small", a.small, sorted({*agencies, "rcmp"}), env)  # the start-up file is RCMP's
    machine = f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"generated {a.rows:,} records per agency in {time.perf_counter() - t:.0f} s ({machine})", file=sys.stderr)
    out = [f"`python -m ibet.benchmarks.ingest` on {dt.date.today().isoformat()} ({machine}).", "",
           f"**Ingest, {a.rows:,} records per agency-day**, whole processes, the bare copy in the same run:", ""]
    rows, at_rows, _, _ = _ingest_table(work, "big", agencies, env, with_reference=True)
    out += rows
    small = sorted((work / "small" / "rcmp").glob("*.csv"))[0]
    start = ingest("rcmp", small, env)
    # the same run's floor: a process that only imports the engines every ingest needs (the machine's speed
    # varies from day to day; the gap between the two does not)
    floor = min(_run([sys.executable, "-c", "import duckdb, polars, pyarrow, pyarrow.compute"], env)[0]
                for _ in range(3))
    out += ["", f"Start-up: `ibet ingest rcmp` of a {a.small}-record file: **{start[0]:.2f} s** whole process, "
                f"peak RSS {start[1]:,} MB; a bare `python -c \"import duckdb, polars, pyarrow, pyarrow.compute\"` "
                f"takes {floor:.2f} s in the same run (best of 3)."]
    if a.flat_rows:
        shutil.rmtree(work / "big")
        t = time.perf_counter()
        _generate(work / "flat", a.flat_rows, agencies, env)
        print(f"generated {a.flat_rows:,} records per agency in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        _, at_flat, _, _ = _ingest_table(work, "flat", agencies, env, with_reference=False)
        shutil.rmtree(work / "flat")
        out += ["", f"**Flat memory**: peak RSS of the same ingest at {a.rows:,} and at {a.flat_rows:,} records:", "",
                f"| agency | peak RSS MB at {a.rows:,} | peak RSS MB at {a.flat_rows:,} | growth | "
                f"seconds at {a.flat_rows:,} | records/s |", "|---|---|---|---|---|---|"]
        for agency, (secs, rss, n) in at_flat.items():
            base = at_rows[agency][1]
            out.append(f"| {agency} | {base:,} | {rss:,} | {100 * (rss - base) / base:+.0f}% | {secs:.0f} | "
                       f"{int(n / secs):,} |")
    if a.scale_days:
        from ibet.benchmarks.scale import scale_build

        out += ["", *scale_build(work / "scale", a.scale_days, a.scale_rows, agencies, env)]
    print("\n".join(out))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: generate N records per agency for one day, ingest each file, report time and peak memory.

    python -m ibet.benchmarks.ingest --rows 1000000

Generation and each agency's ingest run in fresh subprocesses of a small parent: Linux
keeps ``ru_maxrss`` across ``execve``, so a child of a big parent would report the parent's peak.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _one(agency: str, path: str) -> None:
    from ibet.ingest import ingest_file

    t = time.perf_counter()
    r = ingest_file(agency, Path(path))
    secs = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"agency": agency, "file_mb": round(Path(path).stat().st_size / 2**20, 1),
                      "rows_read": r.rows_read, "rows_loaded": r.rows_loaded, "seconds": round(secs, 2),
                      "rows_per_s": int(r.rows_read / secs), "peak_rss_mb": int(rss), "status": r.status}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--agencies", default="rcmp,cbsa,cbp,ice,uscg")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--generate-into", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        _one(*a.one)
        return
    if a.generate_into:
        from ibet.generator import generate

        generate(Path(a.generate_into), dt.date(2026, 11, 3), 1, a.rows, seed=1, dirty_rate=0.01,
                 agencies_=a.agencies.split(","))
        return
    home = Path(tempfile.mkdtemp(prefix="ibet-bench-"))
    env = os.environ | {"IBET_HOME": str(home), "IBET_PSEUDONYM_KEY": secrets.token_hex(32)}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ibet.benchmarks.ingest", "--rows", str(a.rows), "--agencies", a.agencies,
                    "--generate-into", str(home / "inbox")], env=env, check=True)
    print(f"generated {a.rows:,} records per agency in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    truth = json.loads((home / "inbox" / "_ground_truth.json").read_text())
    for f in truth["files"]:
        if f["agency"] == "program":
            continue
        subprocess.run([sys.executable, "-m", "ibet.benchmarks.ingest", "--one", f["agency"],
                        str(home / "inbox" / f["agency"] / f["file"])], env=env, check=True)


if __name__ == "__main__":
    main()

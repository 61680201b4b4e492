"""``make bench-latency``: drop → published under the real scheduler, and push → published.

It runs the scheduler end-to-end test (``tests/test_airflow_e2e.py``: PostgreSQL metadata database,
LocalExecutor, scheduler, dag-processor, triggerer and API server as processes, one day of every agency
dropped while the ingest DAGs wait; then an announcement on Redis) and prints its per-task timeline, then
``push→lake``, ``push→published`` and, last, ``drop→published``. The test asserts correctness only; the
figures are this benchmark's. Needs PostgreSQL and Redis on 127.0.0.1 (as the test does).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURES = re.compile(r"^(push→lake|push→published|drop→published): [\d.]+ s$")


def main() -> int:
    cmd = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:randomly", "-p", "no:cacheprovider",
           "tests/test_airflow_e2e.py"]
    done = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "CI": "true"}, capture_output=True, text=True)
    lines = done.stdout.splitlines()
    if done.returncode != 0:
        print("\n".join(lines[-60:]), file=sys.stderr)
        print(f"the end-to-end run failed (exit {done.returncode}): no figures", file=sys.stderr)
        return done.returncode
    timeline = False
    figures = []
    for line in lines:
        if line.startswith("task timeline"):
            timeline = True
        if timeline and (line.startswith("  ") or line.startswith("task timeline")):
            print(line)
        elif FIGURES.match(line.strip()):
            figures.append(line.strip())
    order = ["push→lake", "push→published", "drop→published"]
    for name in order:  # drop→published last
        print(next(f for f in figures if f.startswith(name + ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

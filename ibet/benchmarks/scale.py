"""Benchmark: the warehouse build at scale, stage by stage, in full and with one day added.

    python -m ibet.benchmarks.scale [--days 30] [--rows 100000] [--agencies rcmp,cbsa,cbp,ice,uscg]

``days + 1`` days of every agency are generated to the ICD (``rows`` records per agency-day). The
first ``days`` are ingested, then built, audited and published (``ibet build``'s steps, timed one by
one); then the last day is ingested and the build runs again. Stage times: the staging refresh of
the lake, the SQL layers of all four audience files (dimensions, facts, marts and reports, as the
runner executes them), the quality gate, and the publication. Ingest is timed apart (it is the
DAGs' work, not the build's).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import sys
import time
from collections import defaultdict
from pathlib import Path

START = dt.date(2026, 10, 1)


def _timed_layers(totals: dict[str, float], per_file: dict[str, float]):  # noqa: ANN202 - wrappers of the SQL runners
    """Patches timing each layer's files into ``totals``, and each file into ``per_file`` (by its
    layer/name, summed over the audiences), for the benchmark only.

    Every way a build runs its ``.sql`` files is wrapped: ``runner.run_files`` (the evaluator's
    work build), ``constraints.run_models`` (the analysts' files, keyed models created keyed) and
    ``incremental.refresh_facts`` (the facts of a file redone from the published one).
    """
    from warehouse import constraints, incremental, runner

    real = {"run_files": runner.run_files, "run_models": constraints.run_models,
            "refresh_facts": incremental.refresh_facts}

    def run_files(con, files, run_statement=None):  # noqa: ANN001, ANN202
        for f in files:
            started = time.perf_counter()
            real["run_files"](con, [f], run_statement)
            totals[f.parent.name] += time.perf_counter() - started
            per_file[f"{f.parent.name}/{f.stem}"] += time.perf_counter() - started

    def run_models(con, files, database, source=None, refresh=None):  # noqa: ANN001, ANN202
        for f in files:
            started = time.perf_counter()
            real["run_models"](con, [f], database, source, refresh)
            totals[f.parent.name] += time.perf_counter() - started
            per_file[f"{f.parent.name}/{f.stem}"] += time.perf_counter() - started

    def refresh_facts(con, database, staging_file, since, from_work=False):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        try:
            return real["refresh_facts"](con, database, staging_file, since, from_work)
        finally:
            totals["20_facts"] += time.perf_counter() - started
            per_file["20_facts (refreshed)"] += time.perf_counter() - started

    def install(timed: bool) -> None:
        runner.run_files = run_files if timed else real["run_files"]
        constraints.run_models = run_models if timed else real["run_models"]
        incremental.refresh_facts = refresh_facts if timed else real["refresh_facts"]
    return install


def _build(settings, label: str) -> dict[str, float]:  # noqa: ANN001
    """One build, audited and published, timed stage by stage."""
    from warehouse import staging
    from warehouse.build import gate_build, published_base, write_set
    from warehouse.publish import build_lock, publish_build
    from foundation.settings import AUDIENCES

    layers: dict[str, float] = defaultdict(float)
    per_file: dict[str, float] = defaultdict(float)
    install = _timed_layers(layers, per_file)
    out: dict[str, float] = {}
    started = time.perf_counter()
    with build_lock(settings):
        t = time.perf_counter()
        base = published_base(settings)
        refreshed = staging.refresh(settings, prune_through=base.get("staging_sequence"))
        out["stage"] = time.perf_counter() - t
        t = time.perf_counter()
        install(True)
        try:
            build_id, built = write_set(settings, refreshed, base, tuple(AUDIENCES))
        finally:
            install(False)
        out["audience files"] = time.perf_counter() - t
        out["events redone"] = max((b.touched_events or 0) for b in built.values())
        t = time.perf_counter()
        gate, message, rejected = gate_build(settings, build_id)
        out["gate"] = time.perf_counter() - t
        if rejected:
            raise RuntimeError(f"{label}: the gate blocked the build: {message}")
        t = time.perf_counter()
        publish_build(settings, build_id)
        out["publish"] = time.perf_counter() - t
    out["total"] = time.perf_counter() - started
    out["facts"] = layers.get("20_facts", 0.0)
    out["marts"] = layers.get("30_marts", 0.0) + layers.get("90_evaluator", 0.0)
    out["changed partitions"] = len(refreshed.changed)
    slowest = sorted(per_file.items(), key=lambda kv: -kv[1])[:6]
    out["slowest"] = ", ".join(f"{name} {secs:.1f}" for name, secs in slowest)  # type: ignore[assignment]
    print(f"scale: {label}: slowest SQL files (s, all audiences): {out['slowest']}", file=sys.stderr, flush=True)
    return out


def scale_build(work: Path, days: int, rows: int, agencies: list[str], env: dict[str, str]) -> list[str]:
    """Markdown lines: the month's ingest, then the full and the one-more-day build, stage by stage."""
    for k in ("IBET_HOME", "IBET_PSEUDONYM_KEY"):
        os.environ[k] = env[k] if k != "IBET_HOME" else str(work / "home")
    from foundation.settings import init_home
    from ibet.generator import generate
    from ibet.ingest import ingest_file
    from foundation.registry import source_for

    settings = init_home()
    t = time.perf_counter()
    generate(work / "inbox", START, days + 1, rows, seed=3, dirty_rate=0.01, agencies_=agencies)
    print(f"scale: generated {days + 1} days x {len(agencies)} agencies x {rows:,} in {time.perf_counter() - t:.0f} s",
          file=sys.stderr, flush=True)
    last = START + dt.timedelta(days=days)
    files = sorted(p for p in (work / "inbox").glob("*/*") if p.parent.name in agencies and p.is_file())
    month, extra = [], []
    for p in files:
        _, key = source_for(p.parent.name, p.name)
        (extra if key == last.isoformat() else month).append(p)
    t = time.perf_counter()
    records = sum(ingest_file(p.parent.name, p, settings=settings).rows_read for p in month)
    ingest_seconds = time.perf_counter() - t
    print(f"scale: ingested {len(month)} files ({records:,} records) in {ingest_seconds:.0f} s", file=sys.stderr,
          flush=True)
    full = _build(settings, "full build")
    print(f"scale: full build {full['total']:.0f} s", file=sys.stderr, flush=True)
    t = time.perf_counter()
    for p in extra:
        ingest_file(p.parent.name, p, settings=settings)
    extra_ingest = time.perf_counter() - t
    more = _build(settings, "one more day")
    print(f"scale: one more day {more['total']:.0f} s", file=sys.stderr, flush=True)
    stages = ["stage", "audience files", "facts", "marts", "gate", "publish", "total"]
    lines = [f"**Scale build**: {days} days x {len(agencies)} agencies x {rows:,} records per agency-day "
             f"({records:,} records read; ingested in {ingest_seconds:.0f} s, {int(records / ingest_seconds):,} "
             f"records/s, one process, file after file; the extra day's {len(extra)} files in {extra_ingest:.0f} s). "
             "Built, audited by the gate and published; \"audience files\" is the four DuckDB files, of which "
             "\"facts\" and \"marts\" are the SQL layers of those names (summed over the audiences).", "",
             "| build | changed partitions | events redone | " + " | ".join(f"{s} s" for s in stages) + " |",
             "|---|---|---|" + "---|" * len(stages)]
    for label, fig in (("full (the month)", full), ("one more day", more)):
        redone = f"{int(fig['events redone']):,}" if fig["events redone"] else "all (full)"
        lines.append(f"| {label} | {int(fig['changed partitions']):,} | {redone} | "
                     + " | ".join(f"{fig[s]:.1f}" for s in stages) + " |")
    lines += ["", "Slowest SQL files, seconds summed over the audience files:", ""]
    lines += [f"- {label}: {fig['slowest']}" for label, fig in (("full", full), ("one more day", more))]
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--agencies", default="rcmp,cbsa,cbp,ice,uscg")
    a = ap.parse_args(argv)
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="ibet-scale-"))
    env = {"IBET_HOME": str(work / "home"), "IBET_PSEUDONYM_KEY": secrets.token_hex(32)}
    print("\n".join(scale_build(work, a.days, a.rows, a.agencies.split(","), env)))


if __name__ == "__main__":
    main()

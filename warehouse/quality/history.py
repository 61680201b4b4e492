"""Where the gate's reports live, the quality history over time, and its index page.

Every gate run appends one row per suite to ``IBET_HOME/quality/history.parquet``; the
index page (``IBET_HOME/quality/index.html``) links each suite's Data Docs page and the
history, and each published file carries the history as ``meta_quality_history``.
"""
from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from foundation import duck
from foundation.lake import write_parquet
from foundation.settings import Settings
from warehouse.quality.result import GateResult


def quality_root(settings: Settings) -> Path:
    return settings.home / "quality"


def gx_docs_index(settings: Settings) -> Path:
    """Great Expectations' own Data Docs site (its CDN assets replaced by local copies: renders offline)."""
    return quality_root(settings) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def docs_index(settings: Settings) -> Path:
    """The partners' entry page: self-contained, latest results, history, links into the GX site."""
    return quality_root(settings) / "index.html"


def history_path(settings: Settings) -> Path:
    return settings.warehouse / ".build" / "quality_history.parquet"


def _append_history(settings: Settings, result: GateResult) -> None:
    rows = [{"run_at": result.run_at, "audience": o.audience, "suite": o.suite, "success": o.success,
             "blocking": o.blocking, "expectations": o.evaluated, "failed_expectations": len(o.failed)}
            for o in result.outcomes]
    new = pa.Table.from_pylist(rows, schema=pa.schema([
        ("run_at", pa.string()), ("audience", pa.string()), ("suite", pa.string()), ("success", pa.bool_()),
        ("blocking", pa.bool_()), ("expectations", pa.int64()), ("failed_expectations", pa.int64())]))
    path = history_path(settings)
    if path.exists():
        new = pa.concat_tables([pq.read_table(path).cast(new.schema), new])
    write_parquet(path, new)


def _render_index(settings: Settings, result: GateResult) -> None:
    import jinja2

    site = gx_docs_index(settings).parent
    outcomes = []
    for o in result.outcomes:
        pages = sorted((site / "validations" / o.audience / o.suite).rglob("*.html"))
        link = pages[-1].relative_to(quality_root(settings)).as_posix() if pages else ""
        outcomes.append({**asdict(o), "link": link})
    hist = pq.read_table(history_path(settings)).to_pylist() if history_path(settings).exists() else []
    runs: dict[str, dict] = {}
    for h in hist:
        r = runs.setdefault(h["run_at"], {"run_at": h["run_at"], "suites": 0, "failed_suites": 0,
                                          "failed_expectations": 0})
        r["suites"] += 1
        r["failed_suites"] += (not h["success"]) and h["blocking"]
        r["failed_expectations"] += h["failed_expectations"]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
                             autoescape=True)
    html = env.get_template("quality.html.j2").render(
        run_at=result.run_at, success=result.success, outcomes=outcomes,
        passed=sum(o.success for o in result.outcomes),
        gx_index=gx_docs_index(settings).relative_to(quality_root(settings)).as_posix(),
        history=sorted(runs.values(), key=lambda r: r["run_at"], reverse=True)[:50])
    tmp = docs_index(settings).with_suffix(".tmp")
    tmp.write_text(html)
    os.replace(tmp, docs_index(settings))


def write_history_into(files: list[Path], settings: Settings) -> None:
    """Put the quality history (every gate run so far) into each candidate file before it is published.

    Only into files that exist: connecting to a missing path would create a stray database."""
    path = history_path(settings)
    if not path.exists():
        return
    for f in files:
        if not f.is_file():
            continue
        con = duck.connect(str(f))
        try:
            con.execute("CREATE OR REPLACE TABLE meta_quality_history AS SELECT CAST(run_at AS TIMESTAMPTZ) AS run_at, "
                        "audience, suite, success, blocking, expectations, failed_expectations FROM read_parquet(?) "
                        "ORDER BY run_at, audience, suite", [str(path)])
            con.execute("COMMENT ON TABLE meta_quality_history IS 'Every quality-gate run: when, which suite on which "
                        "file, whether it passed, how many expectations failed (data quality over time).'")
            for col, text in (("run_at", "When the gate ran, UTC."),
                              ("audience", "Audience file checked, or lake for the staged lake."),
                              ("suite", "Expectation suite."), ("success", "True when every expectation held."),
                              ("blocking", "False for warnings (freshness) that do not stop publication."),
                              ("expectations", "Expectations evaluated."),
                              ("failed_expectations", "Expectations that failed.")):
                con.execute(f"COMMENT ON COLUMN meta_quality_history.{col} IS '{text}'")
            con.execute("CHECKPOINT")
        finally:
            con.close()

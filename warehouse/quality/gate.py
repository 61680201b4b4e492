"""Write, audit, then publish: run the expectation suites on the unpublished build.

The gate reads small frames out of each candidate DuckDB file (and the staged lake),
validates them with Great Expectations (suites in ``suites.py``), writes the results
into the Data Docs site under ``IBET_HOME/quality`` and appends them to the quality
history. Result format ``BASIC`` with no unexpected-value samples: Data Docs show counts
and percentages, never the failing values (which could be identifiers).
"""
from __future__ import annotations

import datetime as dt
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from foundation.logs import get_logger
from foundation.settings import Settings
from warehouse.quality import docs_offline, suites
from warehouse.quality.frames import _consistency_frame, _frames, _lake_frames, forbidden_columns
from warehouse.quality.history import (_append_history, _render_index, docs_index, gx_docs_index, history_path,
                                       quality_root, write_history_into)
from warehouse.quality.result import GateResult, SuiteOutcome

__all__ = ["GateResult", "SuiteOutcome", "docs_index", "forbidden_columns", "gx_docs_index", "history_path",
           "quality_root", "run_gate", "write_history_into"]

RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0, "include_unexpected_rows": False}


def _context(settings: Settings) -> Any:
    """A GX context whose stores and Data Docs site are files under ``IBET_HOME/quality/gx``.

    An ephemeral context over filesystem stores, not a file context: the file context re-reads
    and re-substitutes its YAML configuration on every access to its variables (1,300 YAML parses
    and 65 rewrites of great_expectations.yml per gate run, most of its GX time). The suites,
    validation results and the docs site are the same files either way, so the site keeps the
    history of earlier runs.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import (DataContextConfig, FilesystemStoreBackendDefaults,
                                                            ProgressBarsConfig)

    root = quality_root(settings) / "gx"
    root.mkdir(parents=True, exist_ok=True)
    config = DataContextConfig(store_backend_defaults=FilesystemStoreBackendDefaults(root_directory=str(root)),
                               progress_bars=ProgressBarsConfig(globally=False),
                               analytics_enabled=False)
    return gx.get_context(mode="ephemeral", project_config=config)


def _describe(r: Any) -> str:
    cfg = r.expectation_config
    kw = {k: v for k, v in cfg.kwargs.items() if k in ("column", "column_A", "column_B")}
    what = ", ".join(f"{v}" for v in kw.values())
    res = r.result or {}
    n = res.get("unexpected_count", res.get("observed_value"))
    return f"{cfg.type}({what}) unexpected={n}"


def _prune_results(context: Any, site: Path, keep: int) -> None:
    """Keep each suite's newest ``keep`` validation results in GX's store and Data Docs; remove the older
    ones (their outcomes stay in the quality history, ``history.py``).

    GX renders its index from every stored result: unpruned, a daily gate's Data Docs would take longer
    every day (about 1.5 ms per stored result, a minute after a few years of runs)."""
    store = context.validation_results_store
    by_suite: dict[str, list[Any]] = defaultdict(list)
    for key in store.list_keys():
        by_suite[key.expectation_suite_identifier.name].append(key)
    for keys in by_suite.values():
        for key in sorted(keys, key=lambda k: k.run_id.to_tuple())[:-keep]:
            store.remove_key(key)
            *folders, page = key.to_tuple()
            html = site.joinpath("validations", *folders, f"{page}.html")
            html.unlink(missing_ok=True)
            for d in html.parents:  # the run's now empty folders
                if d == site or not d.is_dir() or any(d.iterdir()):
                    break
                d.rmdir()


def run_gate(settings: Settings, files: dict[str, Path], include_lake: bool = True) -> GateResult:
    """Validate ``files`` (audience -> DuckDB file) and the staged lake; build the Data Docs."""
    import great_expectations as gx
    import pandas as pd
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    context = _context(settings)
    today = dt.datetime.now(dt.timezone.utc).date()
    result = GateResult(run_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    work: list[tuple[str, str, Any, list, bool]] = []
    identifying = forbidden_columns()
    for audience, path in files.items():
        for suite, (df, expectations, blocking) in _frames(path, audience, today, identifying).items():
            work.append((audience, suite, df, expectations, blocking))
    if {"evaluator", "can", "usa"} <= set(files):
        work.append(("evaluator", "consistency", _consistency_frame(files), suites.consistency_suite(), True))
    if include_lake:
        for suite, (df, expectations, blocking) in _lake_frames(settings).items():
            work.append(("lake", suite, df, expectations, blocking))
    source = context.data_sources.add_or_update_pandas("ibet")
    rendered: list[Any] = []  # this run's validation results and suites: the Data Docs pages to write
    for audience, suite_name, df, expectations, blocking in work:
        name = f"{audience}.{suite_name}"
        asset = next((a for a in source.assets if a.name == name), None) or source.add_dataframe_asset(name)
        batch = next(iter(asset.batch_definitions), None) or asset.add_batch_definition_whole_dataframe("whole")
        suite = gx.ExpectationSuite(name=name)
        for e in expectations:
            suite.add_expectation(e)
        suite = context.suites.add_or_update(suite)
        vd = context.validation_definitions.add_or_update(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name=name, validation_definitions=[vd], actions=[], result_format=RESULT_FORMAT))
        frame = df if isinstance(df, pd.DataFrame) else pd.DataFrame()
        run = checkpoint.run(batch_parameters={"dataframe": frame})
        rendered += [*run.run_results, ExpectationSuiteIdentifier(name=name)]
        for vr in run.run_results.values():
            failed = [_describe(r) for r in vr.results if not r.success]
            result.outcomes.append(SuiteOutcome(audience, suite_name, bool(vr.success), len(vr.results), failed,
                                                blocking))
    site = gx_docs_index(settings).parent
    started = time.time() - 2  # file times are coarser than the clock: a margin, re-localizing is harmless
    _prune_results(context, site, settings.options.quality_docs_runs)
    context.build_data_docs(resource_identifiers=rendered)  # this run's pages and the index, not every run's
    unknown = docs_offline.localize(site, since=started)
    if unknown:
        get_logger(settings).warning("Data Docs still load %d asset(s) from the network: %s", len(unknown),
                                     ", ".join(unknown))
    result.docs_index = str(docs_index(settings))
    _append_history(settings, result)
    _render_index(settings, result)
    log = get_logger(settings)
    (log.info if result.success else log.error)("quality gate: %s", result.message())
    return result



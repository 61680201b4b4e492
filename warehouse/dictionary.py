"""The data dictionary site: every published table and column, what it means, and where it comes from.

Like ``dbt docs``, but static and self-contained (inline styles and script, nothing loaded
from the network): ``IBET_HOME/docs/index.html`` links one page per audience. Each page
lists the audience file's tables by layer with their descriptions, row counts and keys,
and for every column its type, description and lineage: the models it is built from,
the staged lake columns, and the partner file columns behind them with their privacy
class (an identifier column is shown only as the pseudonym or birth year it becomes).
Pages are written at each publication, readable like the audience file they describe.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import jinja2

from foundation import duck
from foundation.logs import get_logger
from foundation.settings import AUDIENCES, Settings
from warehouse import lineage
from warehouse.access import constraint_labels, layer_of

TEMPLATES = Path(__file__).resolve().parent / "templates"
LAYER_ORDER = ["dimension", "reference", "fact", "mart", "report", "metadata", "other"]
LAYER_TITLES = {"dimension": "Dimensions", "reference": "Reference data", "fact": "Facts", "mart": "Marts",
                "report": "Reports", "metadata": "Build metadata", "other": "Other"}
LAYER_OF_FOLDER = {"10_dimensions": "dimension", "20_facts": "fact", "30_marts": "mart", "40_reports": "report"}
REFERENCE_FILES = {"src_regions": "regions.csv", "src_fx_rates": "fx_rates.csv", "src_program": "program_reference.yml",
                   "src_planned_results": "program_reference.yml", "src_agencies": "the agency registry",
                   "src_categories": "the threat taxonomy", "src_commodities": "the commodity taxonomy"}


def _sources(leaves: list[str], lin: dict[str, Any]) -> dict[str, Any]:
    """Group a column's leaves: staged lake columns with their partner-file origins, and reference data."""
    staged, reference, partners = [], [], {}
    for leaf in leaves:
        parts = leaf.split(".")
        if parts[0] == "staged" and len(parts) == 3 and parts[1].startswith("stg_"):
            table, col = parts[1].removeprefix("stg_"), parts[2]
            staged.append(f"{table}.{col}")
            for source, refs in lin["sources"].get(table, {}).get(col, {}).items():
                partners.setdefault(source, set()).update((lvl, c, p) for lvl, c, p in refs)
        elif parts[0].startswith("src_"):
            reference.append(f"{REFERENCE_FILES.get(parts[0], parts[0])}: {parts[-1]}")
    return {"staged": sorted(set(staged)), "reference": sorted(set(reference)),
            "partners": {s: sorted(v) for s, v in sorted(partners.items())}}


def audience_model(path: Path, audience: str, lin: dict[str, Any]) -> dict[str, Any]:
    """Everything the page shows for one published file, read from the file's own catalog."""
    con = duck.connect(str(path), read_only=True)
    try:
        tables = con.execute("SELECT table_name, coalesce(comment, ''), estimated_size FROM duckdb_tables() "
                             "WHERE NOT temporary ORDER BY table_name").fetchall()
        out = []
        for name, comment, rows in tables:
            model = lin["models"].get(name, {})
            layer = layer_of(name)
            if layer in ("mart", "other"):  # marts and reports both start with mart_: the folder tells
                layer = LAYER_OF_FOLDER.get(model.get("file", "").split("/")[0], layer)
            keys = constraint_labels(con, name)
            cols = []
            for col, dtype, nullable, ccomment in con.execute(
                    "SELECT column_name, data_type, is_nullable, coalesce(comment, '') FROM duckdb_columns() "
                    "WHERE table_name = ? ORDER BY column_index", [name]).fetchall():
                cols.append({"name": col, "type": dtype, "nullable": nullable, "comment": ccomment,
                             "key": keys.get(col, ""),
                             "lineage": _sources(model.get("columns", {}).get(col, []), lin)})
            out.append({"name": name, "comment": comment, "rows": rows, "layer": layer,
                        "file": model.get("file", ""), "upstream": model.get("upstream", []), "columns": cols})
        built = con.execute("SELECT built_at FROM meta_build").fetchall()[0][0] if any(
            t[0] == "meta_build" for t in tables) else None
    finally:
        con.close()
    out.sort(key=lambda t: (LAYER_ORDER.index(t["layer"]) if t["layer"] in LAYER_ORDER else 99, t["name"]))
    groups = [(LAYER_TITLES[layer], [t for t in out if t["layer"] == layer]) for layer in LAYER_ORDER]
    return {"audience": audience, "caveats": AUDIENCES[audience], "tables": out, "built_at": built,
            "file": path.name, "groups": [(title, ts) for title, ts in groups if ts],
            "names": {t["name"] for t in out}}


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                              lstrip_blocks=True)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)


def write_dictionary(settings: Settings, audiences: tuple[str, ...] = tuple(AUDIENCES)) -> Path:
    """Write ``docs/<audience>.html`` for each published audience and ``docs/index.html``; return the index."""
    from warehouse.publish import current_dir

    lin = lineage.load()
    published = current_dir(settings)  # resolved once: every page describes the same set
    env = _env()
    written = []
    for audience in audiences:
        path = published / f"{audience}.duckdb" if published else None
        if path is None or not path.exists():
            continue
        model = audience_model(path, audience, lin)
        _write(settings.docs / f"{audience}.html", env.get_template("dictionary.html.j2").render(**model))
        written.append(audience)
    if not written:
        raise FileNotFoundError(f"nothing is published in {settings.warehouse}: run `ibet build` first")
    pages = [a for a in AUDIENCES if (settings.docs / f"{a}.html").exists()]
    _write(settings.docs / "index.html", env.get_template("dictionary_index.html.j2").render(
        audiences=[(a, AUDIENCES[a]) for a in pages],
        generated_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")))
    return settings.docs / "index.html"


def refresh_after_publish(settings: Settings) -> Path | None:
    """Rewrite the site after a publication; a failure is logged, it never undoes the publication."""
    try:
        return write_dictionary(settings)
    except Exception as exc:  # noqa: BLE001 - documentation must not fail a published build
        get_logger(settings).error("data dictionary not written: %s", str(exc).splitlines()[0][:200])
        return None

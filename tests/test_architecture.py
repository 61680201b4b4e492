"""Imports run one way (import-linter's contracts in pyproject.toml), and no module reads the environment
when imported."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the folders are the layers: foundation/ at the bottom, ibet/ (the application) at the top
FOUNDATION = ("foundation",)
#: top to bottom: a module may import only its own layer or the ones below
LAYERS = [("dags",), ("ibet.cli", "ibet.benchmarks", "ibet.orchestration", "ibet.doctor", "ibet.ingest",
                      "ibet.generator", "ibet.retention"),
          ("warehouse",), ("transforms",), ("contracts",), FOUNDATION]


def _layer(module: str) -> int | None:
    for i, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    return None


def _modules() -> list[tuple[str, Path]]:
    out = []
    for pattern in ("foundation/*.py", "ibet/**/*.py", "contracts/*.py", "transforms/*.py", "warehouse/**/*.py", "dags/*.py"):
        for p in ROOT.glob(pattern):
            out.append((".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"), p))
    return out


def test_import_linter_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout


def test_no_import_runs_up_a_layer():
    """The same rule read independently from the source (every import, also inside functions)."""
    upward = []
    for module, path in _modules():
        src = _layer(module)
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for name in names:
                dst = _layer(name)
                if src is not None and dst is not None and dst < src:
                    upward.append(f"{module} -> {name}")
    assert upward == []
    assert len(_modules()) > 60  # the scan saw the project


def test_no_module_reads_the_environment_when_imported():
    """Settings are read when a command or task runs, never at import (a DAG file's parse, a test's collection)."""
    readers = []
    for module, path in _modules():
        if module.startswith("dags"):
            continue  # the DAG files are entry points: they generate the DAGs when parsed
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
                continue
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # a docstring
            text = ast.unparse(node)
            if any(k in text for k in ("os.environ", "getenv(", "get_settings(", "reference_path(")):
                readers.append(f"{module}:{node.lineno}")
    assert readers == []


def test_no_domain_list_is_copied():
    """Commodities, categories, actions and caveats are spelled out in foundation/vocabulary.py only: no other
    module holds a literal list of three or more of them (an agency's own action codes in its contract, as
    the ICD gives them, excepted), and no SQL file names a commodity or a fiscal month."""
    from foundation import vocabulary

    lists = {"commodities": set(vocabulary.COMMODITIES), "categories": set(vocabulary.CATEGORIES),
             "actions": set(vocabulary.ACTIONS), "caveats": set(vocabulary.CAVEATS),
             "outreach programs": set(vocabulary.OUTREACH_PROGRAMS)}
    copies = []
    for module, path in _modules():
        if module == "foundation.vocabulary":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
                values = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
                if len(values) >= 3 and len(values) == len(node.elts):
                    copies += [f"{module}:{node.lineno} {name}" for name, known in lists.items()
                               if set(values) <= known
                               and not (module.startswith("contracts.") and name == "actions")]
    assert copies == []
    for sql in (ROOT / "warehouse" / "sql").rglob("*.sql"):
        text = sql.read_text()
        assert not any(f"'{c}'" in text for c in vocabulary.COMMODITIES), sql.name
        assert "month(d) < 4" not in text and "month(d) >= 10" not in text, sql.name


def test_one_model_per_file_named_after_its_table_with_its_declarations():
    """Like a dbt project: each model file of the audience layers builds exactly one table, named after
    it (``NN_<table>.sql``); its declarations (``NN_<table>.yml``) sit beside it and name its columns."""
    import re

    from warehouse import constraints
    from warehouse.runner import AUDIENCE_LAYERS, EVALUATOR_LAYERS, evaluator_copies, sql_files

    create = re.compile(r"^CREATE\s+OR\s+REPLACE\s+TABLE\s+(\w+)", re.I | re.M)
    models = [f for f in sql_files(tuple(dict.fromkeys(AUDIENCE_LAYERS + EVALUATOR_LAYERS)))
              if not f.parent.name.startswith("00_")]
    assert len(models) >= 26 and any(f.parent.name == "90_evaluator" for f in models)
    # the evaluator's copies are a declared list, not ten hand-written copies; none is event- or person-level
    copies = evaluator_copies()
    assert "dim_region" in copies and not any(t.startswith(("fact_events", "fact_subject", "fact_conveyance",
                                                               "fact_seizures")) for t in copies)
    for f in models:
        tables = create.findall(f.read_text())
        assert tables == [f.stem.split("_", 1)[1]], f"{f.parent.name}/{f.name} builds {tables}"
    for yml in constraints.declaration_files():
        assert yml.with_suffix(".sql").exists(), yml
    declared = constraints.declared()
    assert {"fact_events", "mart_indicators", "dim_region"} <= set(declared)
    assert "event_uid" in declared["fact_events"]["primary_key"]


def test_every_declaration_becomes_a_check_that_fails_on_bad_rows():
    import duckdb

    from warehouse import constraints

    con = duckdb.connect()
    con.execute("CREATE TABLE dim_region AS SELECT * FROM (VALUES ('PAC', 'Pacific'), ('PAC', NULL)) t(region_code, "
                "region_name)")
    con.execute("CREATE TABLE mart_indicators AS SELECT 'CAN' AS calendar, '2026-27' AS fiscal_year, 'Q5' AS period, "
                "'x' AS indicator, 'count' AS unit")
    rows = {(m, r): n for m, r, n in con.execute(constraints.checks_sql({"dim_region", "mart_indicators"})).fetchall()}
    assert rows[("dim_region", "unique region_code")] == 1 and rows[("dim_region", "not null region_name")] == 1
    assert rows[("mart_indicators", "accepted values period")] == 1
    assert rows[("mart_indicators", "accepted values calendar")] == 0
    assert ("mart_indicators", "indicator -> dim_indicator.indicator") not in rows  # dim_indicator absent here

# The two set-up commands: `make demo` and `make test`. Both create .venv when missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
IBET := $(VENV)/bin/ibet
export IBET_HOME ?= $(CURDIR)/var

DEMO_START ?= 2026-11-02
DEMO_DAYS ?= 7
DEMO_ROWS ?= 500
DEMO_FY ?= 2026-27

.PHONY: setup demo test bench bench-latency clean lock dag-docs airflow-ui lineage sql mutation

# Byte-compiled at install: these machines set PYTHONDONTWRITEBYTECODE=1, and an uncompiled venv
# recompiles pandas/pandera/polars in every process (seconds per CLI call and per Airflow task).
# The project itself is installed editable: its own modules are compiled too (0.1 s a process);
# a module edited since is compiled in memory again, as Python does for any stale .pyc.
# Every source folder of the tree is compiled, whatever its name (the Dockerfile uses the same pattern).
NOT_SOURCE := (^|/)(\.venv|\.git|var|secrets)(/|$$)
$(VENV)/.installed: pyproject.toml requirements/dev.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv
	$(VENV)/bin/uv pip install -q --python $(PY) --compile-bytecode --require-hashes -r requirements/dev.lock
	$(VENV)/bin/uv pip install -q --python $(PY) --compile-bytecode --no-deps -e .
	$(PY) -m compileall -q -x '$(NOT_SOURCE)' . > /dev/null
	@touch $@

setup: $(VENV)/.installed

lock:  ## refresh the three hashed lock files from pyproject.toml (runtime, + deploy, + dev)
	$(VENV)/bin/uv pip compile -q pyproject.toml --generate-hashes --python-version 3.11 -o requirements/runtime.lock
	$(VENV)/bin/uv pip compile -q pyproject.toml --extra deploy --generate-hashes --python-version 3.11 -o requirements/deploy.lock
	$(VENV)/bin/uv pip compile -q pyproject.toml --extra deploy --extra dev --generate-hashes --python-version 3.11 -o requirements/dev.lock

demo: setup
	$(IBET) init --dags-start $(DEMO_START)
	$(IBET) generate --start $(DEMO_START) --days $(DEMO_DAYS) --rows-per-day $(DEMO_ROWS) --seed 42
	$(IBET) airflow demo --start $(DEMO_START) --days $(DEMO_DAYS)
	$(IBET) indicators --fiscal-year $(DEMO_FY) -i events_reported -i interdictions -i arrests \
	  -i seizure_value_cad -i subjects_linked -i interception_rate -i median_sharing_latency_hours
	$(IBET) -q report review --fiscal-year $(DEMO_FY)
	$(IBET) -q report review --fiscal-year $(DEMO_FY) --format xlsx
	$(IBET) doctor
	@echo "lake: $(IBET_HOME)/lake   quarantine: $(IBET_HOME)/quarantine   logs: $(IBET_HOME)/logs"
	@echo "warehouse (one file per audience): $(IBET_HOME)/warehouse/{ibet,can,usa,evaluator}.duckdb"
	@echo "data dictionary: $(IBET_HOME)/docs/index.html   quality report: $(IBET_HOME)/quality/index.html"
	@echo "program review:  $(IBET_HOME)/reports/review_$(DEMO_FY).html  (and .xlsx: DPR table, indicators, charts, definitions)"
	@echo "engineers:  make airflow-ui          (the scheduler continues from the demo's runs; http://127.0.0.1:8080)"
	@echo "analysts:   make sql                 (DuckDB shell on ibet.duckdb, read-only)   |   $(IBET) tables"
	@echo "            $(IBET) sql \"SELECT * FROM mart_cross_agency_links\""
	@echo "evaluators: $(IBET) indicators --fiscal-year FY2027 [-g quarter]   |   $(IBET) report dpr --fiscal-year 2006-07"
	@echo "operators:  $(IBET) audit [--verify]    |   $(IBET) publish --list   |   $(IBET) purge --dry-run"

# Both cores: each test module is one unit of work (tests/conftest.py), the Airflow stack tests first.
test: setup
	$(PY) -m pytest -q -n 2 --dist loadgroup

dag-docs: setup  ## regenerate the contract docs the DAGs show in the Airflow UI
	$(IBET) contracts --write dags/contract_docs

airflow-ui: setup  ## scheduler, dag-processor, triggerer and UI on http://127.0.0.1:8080 (SQLite in IBET_HOME)
	$(IBET) airflow ui

AUDIENCE ?= ibet
sql: setup  ## the DuckDB shell on a published file, read-only (AUDIENCE=ibet|can|usa|evaluator)
	$(IBET) shell --audience $(AUDIENCE)

bench: setup
	$(PY) -m ibet.benchmarks.ingest --rows 500000

bench-latency: setup  ## drop -> published under the real scheduler (PostgreSQL, LocalExecutor), and push -> published
	$(PY) -m ibet.benchmarks.latency

clean:
	rm -rf var .pytest_cache

lineage: setup  ## regenerate warehouse/lineage.json (column lineage for the data dictionary) after changing SQL or transforms
	$(PY) -m warehouse.lineage

mutation: setup  ## mutation testing of the privacy core (cosmic-ray + hand-written SQL mutants); a benchmark, not in make test
	$(PY) -m ibet.benchmarks.mutation --only privacy,validate,suppression,sql,publish

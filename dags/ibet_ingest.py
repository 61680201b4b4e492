"""Airflow: one ingest DAG per agency, generated from the agency registry (foundation/registry.py)."""
from pathlib import Path

from ibet.orchestration.factory import ingest_dag_id, make_ingest_dag
from foundation.registry import AGENCIES

DOCS = Path(__file__).resolve().parent / "contract_docs"

for _code in AGENCIES:  # registry order is stable
    globals()[ingest_dag_id(_code)] = make_ingest_dag(_code, DOCS)

"""Airflow: one ingest DAG per agency, generated from the agency registry (ibet/registry.py)."""
from pathlib import Path

from ibet.orchestration.factory import ingest_dag_id, make_ingest_dag
from ibet.registry import AGENCIES

DOCS = Path(__file__).resolve().parent / "contract_docs"

for _code in AGENCIES:  # registry order is stable
    globals()[ingest_dag_id(_code)] = make_ingest_dag(_code, DOCS)

"""Airflow marts DAG: scheduled on the agencies' lake assets, rebuilds and publishes the warehouse."""
from ibet.orchestration.factory import make_marts_dag

ibet_marts = make_marts_dag()

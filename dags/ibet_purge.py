"""Airflow purge DAG: applies the retention policy daily (``ibet purge``)."""
from ibet.orchestration.factory import make_purge_dag

ibet_purge = make_purge_dag()

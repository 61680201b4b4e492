"""Airflow push DAG: an agency announces a file on Redis (AssetWatcher) and it is ingested at once.
Defined only with IBET_PUSH_ENABLED=true (it needs the Redis connection of IBET_PUSH_CONN_ID)."""
from ibet.orchestration.factory import make_push_dag

ibet_push = make_push_dag()
if ibet_push is None:
    del ibet_push

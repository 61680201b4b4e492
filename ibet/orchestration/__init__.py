"""Airflow glue: DAG factory, the extract sensor, task callables. DAG files live in ``dags/``.

Modules here import only the registry and Airflow's authoring API at module level, so a
DAG file parses in milliseconds; the heavy work (polars, pandera, DuckDB) is imported
inside the task callables in ``tasks.py``.
"""

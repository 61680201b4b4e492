# The image every Airflow service of docker-compose.yml runs: official Airflow base plus this
# project's locked dependencies (duckdb 2, pandera, GX, polars) and the Celery/Redis extra.
FROM apache/airflow:slim-3.3.2-python3.11
USER root
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
USER airflow
COPY --chown=airflow:root pyproject.toml README.md /opt/ibet/src/
COPY --chown=airflow:root requirements/deploy.lock /opt/ibet/src/requirements/
RUN pip install --no-cache-dir uv \
 && uv pip install --no-cache --compile-bytecode --require-hashes -r /opt/ibet/src/requirements/deploy.lock
COPY --chown=airflow:root . /opt/ibet/src
RUN uv pip install --no-cache --compile-bytecode --no-deps -e /opt/ibet/src \
 && cd /opt/ibet/src && python -m compileall -q -x '(^|/)(\.venv|\.git|var|secrets)(/|$)' .

"""Start a real Airflow (scheduler, dag-processor, triggerer, api-server; LocalExecutor) on a
fresh PostgreSQL database, for the end-to-end test. Always tears its processes down."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
COMPONENTS = (("api-server", ["api-server", "--port", "{port}", "--workers", "1"]),
              ("scheduler", ["scheduler"]), ("dag-processor", ["dag-processor"]), ("triggerer", ["triggerer"]))


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        psycopg2.connect(dbname="postgres", connect_timeout=3, **PG).close()
        return None
    except psycopg2.Error as exc:
        return f"PostgreSQL at {PG['host']}:{PG['port']} is not reachable ({str(exc).strip().splitlines()[0]})"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AirflowCluster:
    def __init__(self, workdir: Path, extra_env: dict[str, str]) -> None:
        self.workdir = workdir
        self.db = f"ibet_e2e_{secrets.token_hex(4)}"
        self.port = _free_port()
        self.procs: dict[str, subprocess.Popen] = {}
        home = workdir / "airflow"
        home.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ, **extra_env,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(Path(__file__).resolve().parents[1] / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.db}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.port}",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__CORE__FERNET_KEY": "",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            # parse the DAG folder once at start-up: re-parsing every few seconds costs a core on 2-core CI
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "600",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        con = psycopg2.connect(dbname=self.db, **PG)
        try:
            with con.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall()
        finally:
            con.close()

    def __enter__(self) -> "AirflowCluster":
        con = psycopg2.connect(dbname="postgres", **PG)
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{self.db}"')
        con.close()
        try:
            done = subprocess.run([AIRFLOW, "db", "migrate"], env=self.env, capture_output=True, text=True,
                                  timeout=300)
            if done.returncode != 0:
                raise RuntimeError("airflow db migrate failed:\n" + done.stderr[-3000:])
            for name, args in COMPONENTS:
                log = open(self.workdir / f"{name}.log", "w")
                self.procs[name] = subprocess.Popen([AIRFLOW, *[a.format(port=self.port) for a in args]],
                                                    env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                    start_new_session=True)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def alive(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.poll() is not None]

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for name in self.procs:
            text = (self.workdir / f"{name}.log").read_text(errors="replace").splitlines()
            out.append(f"--- {name} ---\n" + "\n".join(text[-lines:]))
        return "\n".join(out)

    def __exit__(self, *exc: object) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 20
        for p in self.procs.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=10)
        try:
            con = psycopg2.connect(dbname="postgres", **PG)
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
            con.close()
        except psycopg2.Error:
            pass

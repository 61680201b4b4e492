"""Start a real Airflow (scheduler, dag-processor, triggerer, api-server) on a fresh PostgreSQL
database, for the end-to-end tests: LocalExecutor, or CeleryExecutor with Redis as the broker,
PostgreSQL as the result backend and N Celery workers as separate processes, each with its own
hostname (as if on its own machine) and log. Always tears its processes down and drops the database."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg2

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = (("api-server", ["api-server", "--host", "127.0.0.1", "--port", "{port}", "--workers", "1"]),
              ("scheduler", ["scheduler"]), ("dag-processor", ["dag-processor"]), ("triggerer", ["triggerer"]))


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        psycopg2.connect(dbname="postgres", connect_timeout=3, **PG).close()
        return None
    except psycopg2.Error as exc:
        return f"PostgreSQL at {PG['host']}:{PG['port']} is not reachable ({str(exc).strip().splitlines()[0]})"


def redis_available() -> str | None:
    """None when Redis answers, else why not."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return None
    except redis.RedisError as exc:
        return f"Redis at {REDIS_URL} is not reachable ({exc})"


def worker_hostname() -> str:
    """``[core] hostname_callable`` of the test's Celery workers: the name each task instance records,
    one per worker process (on one machine they would all share the host's name)."""
    return os.environ.get("IBET_E2E_WORKER") or socket.getfqdn()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AirflowCluster:
    def __init__(self, workdir: Path, extra_env: dict[str, str], celery_workers: int = 0) -> None:
        self.workdir = workdir
        self.db = f"ibet_e2e_{secrets.token_hex(4)}"
        self.port = _free_port()
        self.procs: dict[str, subprocess.Popen] = {}
        self.queue = f"ibet_e2e_{secrets.token_hex(4)}"  # this test's own Celery queue on the shared Redis
        self.workers = [f"worker{i + 1}" for i in range(celery_workers)]
        self.killed: set[str] = set()
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
        if self.workers:
            self.env.update({
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CELERY__BROKER_URL": REDIS_URL,
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://postgres@127.0.0.1:5432/{self.db}",
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.airflow_cluster.worker_hostname",
                # a worker that dies stops heartbeating: its task instance fails after 20 s and is retried
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            })

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
            from ibet.orchestration.pools import pool_command

            done = subprocess.run(pool_command(AIRFLOW), env=self.env, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError("airflow pools set failed:\n" + done.stderr[-3000:])
            for name, args in COMPONENTS:
                self._start(name, [AIRFLOW, *[a.format(port=self.port) for a in args]], self.env)
            for i, worker in enumerate(self.workers):
                self._start(worker, [AIRFLOW, "celery", "worker", "--queues", self.queue, "--celery-hostname",
                                     f"{worker}@%h", "--concurrency", "2", "--without-mingle", "--without-gossip"],
                            {**self.env, "IBET_E2E_WORKER": worker,
                             "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port())})
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = open(self.workdir / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def kill(self, name: str) -> None:
        """SIGKILL a component and every process under it (a machine that loses power): no clean-up runs."""
        proc = psutil.Process(self.procs[name].pid)
        for p in [*proc.children(recursive=True), proc]:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self.procs[name].wait(timeout=30)
        self.killed.add(name)

    def wait(self, what: str, check, deadline: float, every: float = 1.0):
        """Poll ``check`` until it returns something true (returned) or the shared safety ``deadline``
        passes; fail at once, with the components' logs, if a component exited."""
        import pytest

        while time.monotonic() < deadline:
            dead = self.alive()
            if dead:
                pytest.fail(f"Airflow component(s) exited: {dead}\n{self.log_tail()}")
            got = check()
            if got:
                return got
            time.sleep(every)
        pytest.fail(f"timed out waiting for {what}\n{self.log_tail()}")

    def alive(self) -> list[str]:
        """The components that exited, except those the test killed on purpose."""
        return [n for n, p in self.procs.items() if p.poll() is not None and n not in self.killed]

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
        if self.workers:  # the test's queue and whatever a killed worker left unacknowledged
            import redis

            try:
                r = redis.Redis.from_url(REDIS_URL)
                r.delete(self.queue)
                r.close()
            except redis.RedisError:
                pass

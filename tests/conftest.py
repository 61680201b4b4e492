"""Shared fixtures: a runtime home with a key, and one generated-and-ingested dataset."""
from __future__ import annotations

import atexit
import datetime as dt
import os
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

# Airflow creates its home when first imported: never the developer's ~/airflow (removed at exit)
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="ibet-tests-airflow-")
atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], True)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"

from ibet.generator import generate  # noqa: E402
from ibet.ingest import ingest_file  # noqa: E402
from foundation.registry import sources  # noqa: E402
from foundation.settings import Settings, init_home  # noqa: E402


#: Modules that each run a whole Airflow stack (scheduler, dag-processor, triggerer, API server, workers).
AIRFLOW_STACK_MODULES = ("test_airflow_e2e", "test_airflow_celery", "test_airflow_local")


@pytest.hookimpl(trylast=True)  # after pytest-randomly has shuffled the order
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """How ``make test`` spreads the suite over both cores (``pytest -n 2 --dist loadgroup``).

    Each module is one unit, so its module fixtures are built once, on one worker. The Airflow
    stack modules are one unit, queued first: their stacks never run two at a time on a 2-core
    machine, and they wait on their subprocesses half the time, which the other worker fills
    with the rest of the suite. Without xdist the markers are inert.
    """
    def group(item: pytest.Item) -> str:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else item.nodeid
        return "airflow-stack" if module in AIRFLOW_STACK_MODULES else module

    for item in items:
        item.add_marker(pytest.mark.xdist_group(group(item)))
    items.sort(key=lambda item: group(item) != "airflow-stack")  # stable: the shuffled order otherwise


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh IBET_HOME with a key in the environment."""
    monkeypatch.setenv("IBET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("IBET_PSEUDONYM_KEY", secrets.token_hex(32))
    return init_home()


def inbox_files(inbox: Path) -> list[tuple[str, Path]]:
    out = []
    for s in sources():
        for f in sorted((inbox / s.agency).glob(s.file_glob)):
            out.append((s.agency, f))
    return out


@contextmanager
def fresh_home(root: Path) -> Iterator[Settings]:
    """IBET_HOME under ``root`` with a new key, for fixtures wider than one test; restores the environment."""
    old = {k: os.environ.get(k) for k in ("IBET_HOME", "IBET_PSEUDONYM_KEY")}
    os.environ["IBET_HOME"] = str(root / "home")
    os.environ["IBET_PSEUDONYM_KEY"] = secrets.token_hex(32)
    try:
        yield init_home()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def ingested(tmp_path_factory: pytest.TempPathFactory):
    """Two days of dirty extracts from every agency, generated and ingested once."""
    with fresh_home(tmp_path_factory.mktemp("ingested")) as settings:
        truth = generate(settings.inbox, dt.date(2026, 11, 2), 2, 150, seed=11, dirty_rate=0.06)
        results = [ingest_file(a, f, settings=settings) for a, f in inbox_files(settings.inbox)]
        yield {"settings": settings, "truth": truth, "results": results}


@pytest.fixture(scope="session")
def published(ingested):
    """The ingested data built into the warehouse, through the quality gate, and published once."""
    from warehouse.build import build_all

    result = build_all(ingested["settings"], force=True)
    assert result.published and result.gate["success"], result.gate_message  # a clean build passes the gate
    return {**ingested, "build": result}


def flat(text: str) -> str:
    """A CLI message as one line: rich's error box borders and line wraps removed."""
    import re

    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def debian_tool(names: tuple[str, ...], package: str) -> str | None:
    """The first of ``names`` on PATH, installing Debian's ``package`` first when it is missing (as root)."""
    import shutil
    import subprocess

    for name in names:
        if shutil.which(name):
            return shutil.which(name)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    import fcntl

    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # the test workers may want packages at the same moment: dpkg takes one installer at a time
    with open(Path(tempfile.gettempdir()) / "ibet-tests-apt.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not any(shutil.which(n) for n in names):  # another worker may have installed it meanwhile
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
            subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package], env=env,
                           capture_output=True, timeout=900)
    return next((shutil.which(n) for n in names if shutil.which(n)), None)


def _required_tool(names: tuple[str, ...], package: str, purpose: str) -> str:
    tool = debian_tool(names, package)
    if tool is None:
        why = f"{names[0]} is not installed and could not be installed from Debian's packages ({package})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires {purpose}: {why}")
        pytest.skip(why)
    return tool


@pytest.fixture(scope="session")
def chromium() -> str:
    """Headless Chromium from Debian's packages (installed on first use); under CI=true it must be there."""
    return _required_tool(("chromium", "chromium-browser", "google-chrome"), "chromium",
                          "a browser for the rendering tests")


@pytest.fixture()
def airflow_servers() -> None:
    """PostgreSQL and Redis on 127.0.0.1, as the Airflow stack tests need them: skip without them, except
    under CI=true, where they must run."""
    from tests.airflow_cluster import postgres_available, redis_available

    why = postgres_available() or redis_available()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires PostgreSQL and Redis: {why}")
        pytest.skip(why)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory):
    """OpenSSH's sshd from Debian's packages (installed on first use), on a free loopback port with generated
    host and user keys, serving SFTP from a folder the test fills; under CI=true it must be there."""
    from tests.remote_servers import Sshd

    exe = _required_tool(("sshd", "/usr/sbin/sshd"), "openssh-server", "OpenSSH's sshd for the SFTP pull tests")
    with Sshd(exe, tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="session")
def docker_compose() -> str:
    """docker-compose from Debian's packages (it renders and checks a Compose file with no Docker engine)."""
    return _required_tool(("docker-compose",), "docker-compose", "docker-compose to validate docker-compose.yml")


def render(browser: str, page: Path, out_dir: Path, name: str, *, dump_dom: bool = False,
           size: str = "1280,900") -> tuple[Path, str]:
    """Screenshot ``page`` (and its DOM after scripts ran) offline, in headless Chromium."""
    import subprocess

    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={out_dir / 'profile'}", f"--window-size={size}", "--virtual-time-budget=5000"]
    shot = out_dir / f"{name}.png"
    done = subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0 and shot.exists(), done.stderr[-1000:]
    dom = ""
    if dump_dom:
        dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                             timeout=180).stdout
    return shot, dom

"""docker-compose.yml, validated with a parser (no Docker engine runs on these machines):
YAML + the Compose specification's JSON schema, then the deployment's own rules."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
# compose_spec.json: the Compose specification schema as shipped in docker-compose 1.29.2 (Apache-2.0)
SCHEMA = json.loads((Path(__file__).parent / "data" / "compose_spec.json").read_text())
AIRFLOW_SERVICES = {"airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker", "airflow-init"}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_matches_the_compose_specification():
    validator = jsonschema.Draft201909Validator(SCHEMA)
    doc = _compose()
    validator.validate(doc)  # raises with the offending path when invalid
    # the schema does catch mistakes: an unknown key and a bad depends_on condition
    broken = _compose()
    broken["services"]["airflow-scheduler"]["restart_policy"] = "always"
    broken["services"]["airflow-worker"]["depends_on"]["redis"]["condition"] = "service_ready"
    assert len(list(validator.iter_errors(broken))) >= 2


def test_services_of_the_official_airflow_layout():
    services = _compose()["services"]
    assert set(services) == AIRFLOW_SERVICES | {"postgres", "redis"}
    for name in AIRFLOW_SERVICES:
        s = services[name]
        env = s["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://") and "@postgres/" in \
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:6379" in \
            env["AIRFLOW__CELERY__BROKER_URL"]
        assert s["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert s["depends_on"]["redis"]["condition"] == "service_healthy"
        if name != "airflow-init":
            assert s["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
            assert "healthcheck" in s
    commands = {n: services[n].get("command") for n in AIRFLOW_SERVICES - {"airflow-init"}}
    assert commands == {"airflow-api-server": "api-server", "airflow-scheduler": "scheduler",
                        "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer",
                        "airflow-worker": "celery worker"}
    init = "\n".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in init
    # the marts pool the DAGs' warehouse tasks run in (a task in a missing pool is never scheduled)
    from ibet.orchestration.pools import pool_command
    assert shlex.join(pool_command("airflow")) in init.replace('"', "'"), "airflow-init must create the marts pool"


def test_project_is_mounted_and_ibet_home_is_a_volume():
    doc = _compose()
    for name in AIRFLOW_SERVICES:
        s = doc["services"][name]
        mounts = {v.split(":")[1]: v.split(":")[0] for v in s["volumes"]}
        assert mounts["/opt/ibet/src"] == "."
        assert mounts[s["environment"]["IBET_HOME"]] in doc["volumes"]
        assert s["environment"]["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/ibet/src/dags"
    assert (ROOT / "dags").is_dir()


def test_pseudonym_key_is_a_secret_not_baked_in():
    doc = _compose()
    assert doc["secrets"]["ibet_pseudonym_key"] == {"file": "./secrets/pseudonym.key"}
    for name in AIRFLOW_SERVICES:
        s = doc["services"][name]
        assert "ibet_pseudonym_key" in s["secrets"]
        assert s["environment"]["IBET_PSEUDONYM_KEY_FILE"] == "/run/secrets/ibet_pseudonym_key"
        assert "IBET_PSEUDONYM_KEY" not in s["environment"]
    text = (ROOT / "docker-compose.yml").read_text() + (ROOT / "Dockerfile").read_text()
    assert not re.search(r"\b[0-9a-f]{64}\b", text), "a key-like value is written into the deployment files"
    assert "secrets" in (ROOT / ".dockerignore").read_text().split() and "secrets/" in (ROOT / ".gitignore").read_text()


def test_every_env_reference_has_a_default_or_a_clear_error():
    text = (ROOT / "docker-compose.yml").read_text()
    for ref in re.findall(r"(?<!\$)\$\{([^}]+)\}", text):
        assert ":-" in ref or ":?" in ref, f"${{{ref}}} has neither a default nor an error message"


def test_init_gives_the_airflow_user_the_home_volume_and_an_admin_login():
    doc = _compose()
    init = doc["services"]["airflow-init"]
    script = "\n".join(init["command"])
    assert init["user"] == "0:0"  # root once, to hand the volume over
    assert 'chown -R "$${AIRFLOW_UID}:0" /opt/ibet/home' in script and "ibet init" in script
    assert init["environment"]["AIRFLOW_UID"] == "${AIRFLOW_UID:-50000}"
    assert "airflow users create --role Admin" in script
    assert init["environment"]["AIRFLOW_ADMIN_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        assert doc["services"][name]["user"] == "${AIRFLOW_UID:-50000}:0"


def test_production_secrets_have_no_silent_defaults_and_logins_are_fab():
    doc = _compose()
    text = (ROOT / "docker-compose.yml").read_text()
    assert "POSTGRES_PASSWORD:-" not in text and "${POSTGRES_PASSWORD:?" in text
    assert doc["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    for name in AIRFLOW_SERVICES:
        env = doc["services"][name]["environment"]
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("fab_auth_manager.FabAuthManager")
        assert "SIMPLE_AUTH_MANAGER" not in " ".join(env)
    deploy = (ROOT / "pyproject.toml").read_text().split("deploy = [", 1)[1].split("]", 1)[0]
    assert "apache-airflow-providers-fab" in deploy
    # every variable the file needs is documented in .env.example, AIRFLOW_UID in the header too
    example = (ROOT / ".env.example").read_text()
    needed = {ref.split(":")[0] for ref in re.findall(r"(?<!\$)\$\{([^}]+)\}", text)}
    assert {"AIRFLOW_UID", "POSTGRES_PASSWORD", "AIRFLOW_JWT_SECRET", "AIRFLOW_ADMIN_PASSWORD"} <= needed
    assert all(f"{v}=" in example for v in needed), needed - {v for v in needed if f"{v}=" in example}
    assert "AIRFLOW_UID" in text.split("x-airflow-common")[0]


def test_docker_compose_itself_renders_the_file_and_refuses_a_missing_secret(docker_compose, tmp_path):
    """Debian's docker-compose parses, interpolates and validates the file as Docker would (no engine
    needed for `config`): with .env.example filled in it renders; without the database password it stops
    and says which value is missing."""
    import os
    import subprocess

    work = tmp_path / "deploy"
    work.mkdir()
    (work / "docker-compose.yml").write_text((ROOT / "docker-compose.yml").read_text())
    (work / "secrets").mkdir()
    (work / "secrets" / "pseudonym.key").write_text("0" * 64 + "\n")
    env_file = work / ".env"
    filled = {"POSTGRES_PASSWORD": "pw", "AIRFLOW_JWT_SECRET": "jwt", "AIRFLOW_ADMIN_PASSWORD": "admin"}
    lines = [ln if ln.split("=", 1)[0] not in filled else f"{ln.split('=', 1)[0]}={filled[ln.split('=', 1)[0]]}"
             for ln in (ROOT / ".env.example").read_text().splitlines()]
    env_file.write_text("\n".join(lines) + "\n")
    clean = {k: v for k, v in os.environ.items() if k not in filled and not k.startswith(("IBET_", "AIRFLOW"))}
    done = subprocess.run([docker_compose, "config"], cwd=work, env=clean, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rendered = yaml.safe_load(done.stdout)
    assert {"airflow-worker", "airflow-scheduler", "postgres", "redis"} <= set(rendered["services"])
    worker = rendered["services"]["airflow-worker"]
    assert worker["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert "pw@postgres" in worker["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert rendered["secrets"]["ibet_pseudonym_key"]["file"].endswith("secrets/pseudonym.key")
    env_file.write_text("\n".join(ln for ln in lines if not ln.startswith("POSTGRES_PASSWORD=")) + "\n")
    missing = subprocess.run([docker_compose, "config"], cwd=work, env=clean, capture_output=True, text=True,
                             timeout=120)
    assert missing.returncode != 0 and "set POSTGRES_PASSWORD in .env" in missing.stderr


def test_database_urls_name_drivers_that_are_installed():
    """The metadata DB and the Celery result backend are SQLAlchemy URLs: a bare ``postgresql://`` picks
    SQLAlchemy's default driver (psycopg 3), which the image does not install, and every worker dies."""
    from sqlalchemy.engine import make_url

    env = _compose()["x-airflow-common"]["environment"]
    for name in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND"):
        url = make_url(re.sub(r"\$\{[^}]*\}", "secret", env[name]).removeprefix("db+"))
        url.get_dialect().import_dbapi()  # raises ModuleNotFoundError when the driver is missing
        assert url.drivername == "postgresql+psycopg2", (name, url.drivername)


def test_workers_scale_out_and_the_lake_can_be_object_storage():
    doc = _compose()
    assert doc["services"]["airflow-worker"]["deploy"]["replicas"] >= 2
    env = doc["x-airflow-common"]["environment"]
    assert env["IBET_LAKE_URI"] == "${IBET_LAKE_URI:-}"  # the ibet-home volume unless set
    # object storage credentials come from .env or the instance role: no value is written in the file
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert env[name] == f"${{{name}:-}}"
    example = (ROOT / ".env.example").read_text()
    assert all(f"\n{k}=" in example for k in ("IBET_LAKE_URI", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID"))

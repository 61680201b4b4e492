"""Pulling an agency's extract from real servers on loopback: OpenSSH's sshd (SFTP) and an HTTPS server
with a self-signed certificate. Cases: present, late, missing until the deadline, wrong credentials,
interrupted transfer, identical file re-published."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from ibet.orchestration.tasks import ExtractNotPulled, pull_extract
from ibet.pull.endpoint import EndpointError, from_connection
from ibet.pull.errors import NotYetPublished, TransientPullError
from ibet.pull.fetch import fetch_day
from tests.remote_servers import HttpsServer, Sshd  # noqa: F401 - Sshd: the fixture's type

DAY = dt.date(2026, 11, 2)
NAME = "RCMP_IBET_OCC_20261102.csv"  # the ICD's name of RCMP's file for DAY
BODY = b"occurrence_id,reported_at\n" + b"".join(b"R%06d,2026-11-02T10:00:00\n" % i for i in range(20000))
FUTURE = dt.datetime(2999, 1, 1, tzinfo=dt.timezone.utc)
PAST = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def _sftp_conn(server: Sshd, **changes) -> SimpleNamespace:
    folder = server.root / "rcmp"
    folder.mkdir(exist_ok=True)
    base = {"conn_id": "ibet_rcmp", "conn_type": "sftp", "host": "127.0.0.1", "port": server.port,
            "login": server.user, "password": None, "schema": str(server.root / "{agency}"),
            "extra_dejson": {"private_key": server.user_private, "known_hosts": server.host_public}}
    base.update(changes)
    return SimpleNamespace(**base)


def _publish(folder: Path, body: bytes, sidecar: str | None = "match") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for p in folder.glob(NAME + "*"):
        p.unlink()
    (folder / NAME).write_bytes(body)
    if sidecar == "match":
        (folder / (NAME + ".sha256")).write_text(f"{hashlib.sha256(body).hexdigest()}  {NAME}\n")
    elif sidecar is not None:
        (folder / (NAME + ".sha256")).write_text(sidecar)


def _inbox_names(home) -> list[str]:
    d = home.inbox / "rcmp"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def _audit(home) -> list[dict]:
    path = home.home / "audit" / "audit.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines() if '"fetch"' in x] if path.exists() else []


def test_sftp_present_then_identical_republished_is_a_no_op(sshd, home):
    _publish(sshd.root / "rcmp", BODY)
    conn = _sftp_conn(sshd)
    got = pull_extract("rcmp", DAY, FUTURE, conn, settings=home)
    target = home.inbox / "rcmp" / NAME
    assert got["files"] == [{"file": NAME, "status": "fetched", "bytes": len(BODY),
                             "sha256": hashlib.sha256(BODY).hexdigest()}]
    assert target.read_bytes() == BODY and _inbox_names(home) == [NAME]  # no temporary file left
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    mtime = target.stat().st_mtime_ns
    # the agency publishes the same file again (or the push and the daily pull both fire): nothing written
    _publish(sshd.root / "rcmp", BODY)
    again = pull_extract("rcmp", DAY, FUTURE, conn, settings=home)
    assert again["files"][0]["status"] == "unchanged" and target.stat().st_mtime_ns == mtime
    assert [a["status"] for a in _audit(home)] == ["fetched", "unchanged"]
    assert all("127.0.0.1" in a["source"] and "ibet_rcmp" in a["source"] for a in _audit(home))


def test_sftp_late_file_is_polled_then_fetched_and_missing_fails_at_the_deadline(sshd, home):
    folder = sshd.root / "rcmp"
    _publish(folder, b"")
    for p in folder.glob(NAME + "*"):
        p.unlink()
    conn = _sftp_conn(sshd)
    assert pull_extract("rcmp", DAY, FUTURE, conn, settings=home) is None  # not there yet: poll again
    with pytest.raises(ExtractNotPulled) as exc:
        pull_extract("rcmp", DAY, PAST, conn, settings=home)
    msg = str(exc.value)
    assert "rcmp" in msg and "2026-11-02" in msg and NAME in msg and f"127.0.0.1:{sshd.port}" in msg
    assert _inbox_names(home) == []
    _publish(folder, BODY, sidecar=None)  # it arrives (no checksum sidecar this time)
    got = pull_extract("rcmp", DAY, FUTURE, conn, settings=home)
    assert got["files"][0]["status"] == "fetched" and (home.inbox / "rcmp" / NAME).read_bytes() == BODY


def test_sftp_wrong_credentials_or_host_key_fail_at_once_without_secrets(sshd, home):
    import asyncssh

    _publish(sshd.root / "rcmp", BODY)
    other = asyncssh.generate_private_key("ssh-ed25519")
    wrong_key = other.export_private_key().decode()
    with pytest.raises(ExtractNotPulled) as exc:  # even before the deadline: retrying cannot help
        pull_extract("rcmp", DAY, FUTURE, _sftp_conn(sshd, extra_dejson={"private_key": wrong_key,
                                                                         "known_hosts": sshd.host_public}),
                     settings=home)
    assert "retrying cannot help" in str(exc.value) and "PRIVATE KEY" not in str(exc.value)
    impostor = other.export_public_key().decode().strip()
    with pytest.raises(ExtractNotPulled, match="host key"):
        pull_extract("rcmp", DAY, FUTURE, _sftp_conn(sshd, extra_dejson={"private_key": sshd.user_private,
                                                                         "known_hosts": impostor}), settings=home)
    assert _inbox_names(home) == []
    with pytest.raises(EndpointError, match="known_hosts"):  # no silent trust-on-first-use
        from_connection(_sftp_conn(sshd, extra_dejson={"private_key": sshd.user_private}), "rcmp")


def test_sftp_partial_upload_does_not_match_its_checksum_and_lands_nothing(sshd, home):
    folder = sshd.root / "rcmp"
    _publish(folder, BODY[: len(BODY) // 3], sidecar=f"{hashlib.sha256(BODY).hexdigest()}  {NAME}\n")
    conn = _sftp_conn(sshd)
    with pytest.raises(TransientPullError, match="SHA-256"):  # the task's try fails: retried with back-off
        pull_extract("rcmp", DAY, FUTURE, conn, settings=home)
    with pytest.raises(ExtractNotPulled, match="deadline"):  # unless the deadline has passed
        pull_extract("rcmp", DAY, PAST, conn, settings=home)
    assert _inbox_names(home) == []
    _publish(folder, BODY)  # the upload completes
    assert pull_extract("rcmp", DAY, FUTURE, conn, settings=home)["files"][0]["status"] == "fetched"


@pytest.fixture()
def https(tmp_path):
    password = secrets.token_urlsafe(12)
    with HttpsServer(tmp_path / "https", "ibet", password) as server:
        server.password = password
        yield server


def _https_conn(server: HttpsServer, **changes) -> SimpleNamespace:
    base = {"conn_id": "ibet_rcmp", "conn_type": "https", "host": "127.0.0.1", "port": server.port,
            "login": "ibet", "password": server.password, "schema": "extracts/{agency}",
            "extra_dejson": {"ca_file": str(server.cert_file)}}
    base.update(changes)
    return SimpleNamespace(**base)


def test_https_present_then_republished_is_not_downloaded_again(https, home):
    _publish(https.root / "extracts" / "rcmp", BODY)
    got = pull_extract("rcmp", DAY, FUTURE, _https_conn(https), settings=home)
    assert got["files"][0]["status"] == "fetched" and (home.inbox / "rcmp" / NAME).read_bytes() == BODY
    downloads = [r for r in https.requests if r.endswith(NAME)]
    assert pull_extract("rcmp", DAY, FUTURE, _https_conn(https), settings=home)["files"][0]["status"] == "unchanged"
    assert [r for r in https.requests if r.endswith(NAME)] == downloads  # the sidecar said: same bytes


def test_https_wrong_credentials_and_untrusted_certificate_fail_at_once(https, home):
    _publish(https.root / "extracts" / "rcmp", BODY)
    with pytest.raises(ExtractNotPulled, match="HTTP 401") as exc:
        pull_extract("rcmp", DAY, FUTURE, _https_conn(https, password="not-" + https.password), settings=home)
    assert https.password not in str(exc.value)
    with pytest.raises(ExtractNotPulled, match="certificate is not trusted"):
        pull_extract("rcmp", DAY, FUTURE, _https_conn(https, extra_dejson={}), settings=home)
    assert _inbox_names(home) == []


def test_https_interrupted_transfer_is_retried_and_missing_file_polled(https, home):
    folder = https.root / "extracts" / "rcmp"
    conn = _https_conn(https)
    assert pull_extract("rcmp", DAY, FUTURE, conn, settings=home) is None  # 404: not yet published
    with pytest.raises(NotYetPublished):
        fetch_day("rcmp", DAY, from_connection(conn, "rcmp"), home)
    _publish(folder, BODY, sidecar=None)
    https.cut_short.add(NAME)  # the connection drops half-way through the body
    with pytest.raises(TransientPullError):
        fetch_day("rcmp", DAY, from_connection(conn, "rcmp"), home)
    assert _inbox_names(home) == []  # no half file, no temporary file
    got = pull_extract("rcmp", DAY, FUTURE, conn, settings=home)
    assert got["files"][0]["status"] == "fetched" and (home.inbox / "rcmp" / NAME).read_bytes() == BODY


def test_no_connection_means_the_inbox_is_the_source(home):
    assert pull_extract("rcmp", DAY, PAST, None, settings=home)["source"] == "inbox"


def test_connection_types_are_checked():
    with pytest.raises(EndpointError, match="not an extract source"):
        from_connection(SimpleNamespace(conn_id="ibet_rcmp", conn_type="postgres", host="h", port=None, login="",
                                        password="", schema="", extra_dejson={}), "rcmp")

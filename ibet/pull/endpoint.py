"""Where an agency publishes its extracts, as read from its Airflow Connection ``ibet_<agency>``.

The connection is the one home of the credentials (or a secrets backend behind it): they never appear
in code, DAG files, arguments or logs. ``Endpoint`` keeps the secret fields out of its ``repr`` so a log
line or a traceback that shows an endpoint shows no password or key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: connection types and the client that serves them
KINDS = {"sftp": "sftp", "ssh": "sftp", "https": "https", "http": "https"}


class EndpointError(ValueError):
    """The connection cannot be used as an extract source; the message names the connection and why."""


@dataclass(frozen=True)
class Endpoint:
    kind: str  #: ``sftp`` or ``https``
    conn_id: str
    host: str
    port: int
    path: str  #: remote folder, with ``{agency}`` replaced
    login: str = ""
    password: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)  #: PEM text (SFTP)
    known_hosts: str = ""  #: the server's public host key(s), known_hosts format (SFTP)
    token: str = field(default="", repr=False)  #: bearer token (HTTPS), instead of login/password
    ca_file: str = ""  #: CA bundle that signs the server's certificate (HTTPS), default: the system's
    checksum_suffix: str = ".sha256"  #: sidecar holding the file's SHA-256, when the agency publishes one
    timeout: float = 60.0

    def describe(self) -> str:
        """Where, without any secret: for messages and the audit trail."""
        scheme = "sftp" if self.kind == "sftp" else "https"
        return f"{scheme}://{self.host}:{self.port}{self.path} (connection {self.conn_id})"


def from_connection(conn: Any, agency: str) -> Endpoint:
    """An ``Endpoint`` from an Airflow Connection (``conn_type``, ``host``, ``port``, ``login``,
    ``password``, ``schema`` = remote folder, ``extra``: ``path``, ``private_key``, ``known_hosts``,
    ``token``, ``ca_file``, ``checksum_suffix``, ``timeout``)."""
    extra = dict(getattr(conn, "extra_dejson", None) or {})
    kind = KINDS.get((conn.conn_type or "").lower())
    conn_id = getattr(conn, "conn_id", f"ibet_{agency}")
    if kind is None:
        raise EndpointError(f"connection {conn_id}: type {conn.conn_type!r} is not an extract source "
                            "(use sftp or https)")
    if not conn.host:
        raise EndpointError(f"connection {conn_id}: no host")
    if kind == "sftp" and not extra.get("known_hosts") and not extra.get("no_host_key_check"):
        raise EndpointError(f"connection {conn_id}: set extra.known_hosts to the server's host key (or, "
                            "knowingly, extra.no_host_key_check = true)")
    path = (extra.get("path") or conn.schema or "/").format(agency=agency)
    return Endpoint(kind=kind, conn_id=conn_id, host=conn.host, port=int(conn.port or (22 if kind == "sftp" else 443)),
                    path="/" + path.strip("/") if path.strip("/") else "", login=conn.login or "",
                    password=conn.password or "", private_key=extra.get("private_key", ""),
                    known_hosts=extra.get("known_hosts", ""), token=extra.get("token", ""),
                    ca_file=extra.get("ca_file", ""), checksum_suffix=extra.get("checksum_suffix", ".sha256"),
                    timeout=float(extra.get("timeout", 60)))

"""Real servers on loopback for the pull tests: OpenSSH's sshd (Debian's package) with generated host and
user keys, and an HTTPS server with a self-signed certificate. Each serves a folder the test fills."""
from __future__ import annotations

import base64
import datetime as dt
import http.server
import os
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen | None, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Sshd:
    """``sshd -D`` on a free loopback port; public-key login for the current user; SFTP subsystem."""

    def __init__(self, sshd: str, workdir: Path) -> None:
        import asyncssh

        self.sshd, self.dir = sshd, workdir
        workdir.mkdir(parents=True, exist_ok=True)
        host = asyncssh.generate_private_key("ssh-ed25519")
        (workdir / "host_key").write_bytes(host.export_private_key())
        os.chmod(workdir / "host_key", 0o600)
        self.host_public = host.export_public_key().decode().strip()
        user = asyncssh.generate_private_key("ssh-ed25519")
        self.user_private = user.export_private_key().decode()
        (workdir / "authorized_keys").write_bytes(user.export_public_key())
        self.user = os.environ.get("USER") or __import__("getpass").getuser()
        self.root = workdir / "outbox"
        self.root.mkdir(exist_ok=True)
        self.port = free_port()

    def __enter__(self) -> "Sshd":
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation directory
        cfg = self.dir / "sshd_config"
        cfg.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.dir / 'host_key'}",
            f"PidFile {self.dir / 'sshd.pid'}", f"AuthorizedKeysFile {self.dir / 'authorized_keys'}",
            "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password", "StrictModes no", "UsePAM no", f"AllowUsers {self.user}",
            "Subsystem sftp internal-sftp", "LogLevel VERBOSE", ""]))
        self.log = self.dir / "sshd.log"
        self.proc = subprocess.Popen([self.sshd, "-D", "-e", "-f", str(cfg)], stdout=open(self.log, "w"),
                                     stderr=subprocess.STDOUT)
        _wait_port(self.port, self.proc, self.log)
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "ibet-test"

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        srv: HttpsServer = self.server.owner  # type: ignore[attr-defined]
        srv.requests.append(self.path)
        if self.headers.get("Authorization") != srv.expected_auth:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="ibet"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = srv.root / self.path.lstrip("/")
        if not path.is_file():
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if path.name in srv.cut_short:  # the connection drops half-way through the body
            srv.cut_short.discard(path.name)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


class HttpsServer:
    """HTTPS with a self-signed certificate for 127.0.0.1, Basic auth, files from ``root``."""

    def __init__(self, workdir: Path, login: str, password: str) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        import ipaddress

        workdir.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ibet-test-agency")])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        self.cert_file = workdir / "cert.pem"
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file = workdir / "key.pem"
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.cert_file, key_file)
        self.root = workdir / "outbox"
        self.root.mkdir(exist_ok=True)
        self.expected_auth = "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()
        self.requests: list[str] = []
        self.cut_short: set[str] = set()

    def __enter__(self) -> "HttpsServer":
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.httpd.socket = self.ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

"""The two remote clients, one interface: the published checksum of a file (if any), and its download.

Both are asynchronous (asyncssh, httpx), so a deferrable trigger can use them as they are. Every failure
is mapped to what the caller should do (``errors``): poll again, back off, or fail at once. Messages
never carry a credential, and no client logs one.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from ibet.pull.endpoint import Endpoint
from ibet.pull.errors import AuthenticationFailed, NotYetPublished, TransientPullError

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def parse_checksum(text: str) -> str | None:
    """A ``.sha256`` sidecar (``sha256sum`` format or the bare digest) -> the digest, lower case."""
    first = (text.split() or [""])[0]
    return first.lower() if _HEX64.match(first) else None


class Client(Protocol):
    async def __aenter__(self) -> "Client": ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def published_checksum(self, name: str) -> str | None: ...
    async def download(self, name: str, dest: Path) -> None: ...


class SftpClient:
    """SFTP over asyncssh: host key checked against the connection's ``known_hosts``, key or password auth."""

    def __init__(self, ep: Endpoint) -> None:
        self.ep = ep

    def _known_hosts(self):
        import asyncssh

        if not self.ep.known_hosts:
            return None  # the connection says so explicitly (no_host_key_check)
        lines = [ln.strip() for ln in self.ep.known_hosts.splitlines() if ln.strip()]
        if all(ln.split()[0].startswith(("ssh-", "ecdsa-")) for ln in lines):  # bare public keys
            return ([asyncssh.import_public_key(ln) for ln in lines], [], [])
        return asyncssh.import_known_hosts(self.ep.known_hosts)

    async def __aenter__(self) -> "SftpClient":
        import asyncio

        import asyncssh

        keys = [asyncssh.import_private_key(self.ep.private_key)] if self.ep.private_key else []
        try:
            self._conn = await asyncssh.connect(
                self.ep.host, port=self.ep.port, username=self.ep.login or None,
                password=self.ep.password or None, client_keys=keys or None, known_hosts=self._known_hosts(),
                connect_timeout=self.ep.timeout, agent_path=None, config=[],
                preferred_auth="publickey,password" if keys else "password,keyboard-interactive")
            self._sftp = await self._conn.start_sftp_client()
        except (asyncssh.PermissionDenied, asyncssh.HostKeyNotVerifiable) as exc:
            raise AuthenticationFailed(f"{self.ep.describe()}: {type(exc).__name__} (wrong credentials or "
                                       "host key): retrying cannot help") from None
        except (OSError, asyncssh.Error, asyncio.TimeoutError) as exc:
            raise TransientPullError(f"{self.ep.describe()}: cannot connect ({type(exc).__name__})") from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._sftp.exit()
        self._conn.close()
        await self._conn.wait_closed()

    def _remote(self, name: str) -> str:
        return f"{self.ep.path}/{name}" if self.ep.path else name

    async def published_checksum(self, name: str) -> str | None:
        import asyncssh

        try:
            async with self._sftp.open(self._remote(name) + self.ep.checksum_suffix, "r") as fh:
                return parse_checksum(await fh.read(4096))
        except asyncssh.SFTPNoSuchFile:
            return None
        except (OSError, asyncssh.Error) as exc:
            raise TransientPullError(f"{self.ep.describe()}: {name}{self.ep.checksum_suffix}: "
                                     f"{type(exc).__name__}") from None

    async def download(self, name: str, dest: Path) -> None:
        import asyncssh

        remote = self._remote(name)
        try:
            attrs = await self._sftp.stat(remote)
            await self._sftp.get(remote, str(dest))
        except asyncssh.SFTPNoSuchFile:
            raise NotYetPublished(f"{name} is not on {self.ep.describe()} yet") from None
        except asyncssh.SFTPPermissionDenied:
            raise AuthenticationFailed(f"{self.ep.describe()}: {name}: permission denied") from None
        except (OSError, asyncssh.Error) as exc:
            raise TransientPullError(f"{self.ep.describe()}: {name}: transfer failed ({type(exc).__name__})") from None
        if attrs.size is not None and dest.stat().st_size != attrs.size:
            raise TransientPullError(f"{self.ep.describe()}: {name}: {dest.stat().st_size} of {attrs.size} bytes "
                                     "arrived (interrupted transfer or a file still being written)")


class HttpsClient:
    """HTTPS over httpx: certificate verified (system CAs or the connection's ``ca_file``), basic or bearer auth."""

    def __init__(self, ep: Endpoint) -> None:
        self.ep = ep

    async def __aenter__(self) -> "HttpsClient":
        import httpx

        headers = {"Authorization": f"Bearer {self.ep.token}"} if self.ep.token else {}
        auth = httpx.BasicAuth(self.ep.login, self.ep.password) if self.ep.login and not self.ep.token else None
        import ssl

        verify = ssl.create_default_context(cafile=self.ep.ca_file or None)  # the system's CAs by default
        self._http = httpx.AsyncClient(base_url=f"https://{self.ep.host}:{self.ep.port}", headers=headers,
                                       auth=auth, verify=verify, timeout=self.ep.timeout,
                                       follow_redirects=False, trust_env=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    def _url(self, name: str) -> str:
        return f"{self.ep.path}/{name}"

    def _check(self, status: int, what: str) -> None:
        if status in (401, 403):
            raise AuthenticationFailed(f"{self.ep.describe()}: {what}: HTTP {status} (wrong credentials): "
                                       "retrying cannot help")
        if status == 404:
            raise NotYetPublished(f"{what} is not on {self.ep.describe()} yet")
        if status >= 400:
            raise TransientPullError(f"{self.ep.describe()}: {what}: HTTP {status}")

    def _network(self, exc: Exception, what: str) -> Exception:
        import ssl

        import httpx

        chain, e = [], exc
        while e is not None and len(chain) < 10:
            chain.append(e)
            e = e.__cause__ or e.__context__
        if isinstance(exc, httpx.ConnectError) and (
                any(isinstance(c, ssl.SSLCertVerificationError) for c in chain)
                or "CERTIFICATE_VERIFY_FAILED" in str(exc)):
            return AuthenticationFailed(f"{self.ep.describe()}: the server's certificate is not trusted "
                                        "(set extra.ca_file to its CA): retrying cannot help")
        return TransientPullError(f"{self.ep.describe()}: {what}: {type(exc).__name__}")

    async def published_checksum(self, name: str) -> str | None:
        import httpx

        what = name + self.ep.checksum_suffix
        try:
            r = await self._http.get(self._url(what))
        except httpx.HTTPError as exc:
            raise self._network(exc, what) from None
        if r.status_code == 404:
            return None
        self._check(r.status_code, what)
        return parse_checksum(r.text)

    async def download(self, name: str, dest: Path) -> None:
        import httpx

        try:
            async with self._http.stream("GET", self._url(name)) as r:
                self._check(r.status_code, name)
                expected = int(r.headers["content-length"]) if "content-length" in r.headers else None
                with open(dest, "wb") as out:
                    async for block in r.aiter_bytes(1 << 20):
                        out.write(block)
        except httpx.HTTPError as exc:  # e.g. the peer closed the connection before the whole body
            raise self._network(exc, name) from None
        if expected is not None and dest.stat().st_size != expected:
            raise TransientPullError(f"{self.ep.describe()}: {name}: {dest.stat().st_size} of {expected} bytes "
                                     "arrived (interrupted transfer)")


def client_for(ep: Endpoint) -> Client:
    return SftpClient(ep) if ep.kind == "sftp" else HttpsClient(ep)

"""Fetch one day's extract of one agency into ``inbox/<agency>/``, atomically and at most once.

Each file goes to a private temporary name beside its target, is checked (size against what the server
announced, SHA-256 against the ``.sha256`` sidecar when the agency publishes one), and only then renamed
into place: the inbox sensor and the ingest never see half a file. A file whose bytes are already in the
inbox is not written again (and with a sidecar, not even downloaded), so the daily pull and a push for
the same file never ingest it twice. Every fetch is recorded in the audit trail.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from foundation import audit
from foundation.lake import FILE_MODE, file_checksum, make_dirs
from foundation.registry import get_agency
from foundation.settings import Settings
from ibet.pull.clients import client_for
from ibet.pull.endpoint import Endpoint
from ibet.pull.errors import NotYetPublished, TransientPullError


@dataclass
class FetchResult:
    agency: str
    extract_date: str
    source: str
    files: list[dict] = field(default_factory=list)  #: file, status (fetched|unchanged|absent), bytes, sha256

    @property
    def fetched(self) -> list[str]:
        return [f["file"] for f in self.files if f["status"] == "fetched"]


def expected_names(agency: str, day: dt.date) -> list[tuple[str, bool]]:
    """(file name, required) of every daily file ``agency`` publishes for ``day``."""
    return [(s.filename_for(day), s.required) for s in get_agency(agency).daily_sources]


async def _fetch_all(agency: str, day: dt.date, ep: Endpoint, settings: Settings) -> FetchResult:
    result = FetchResult(agency, day.isoformat(), ep.describe())
    inbox = make_dirs(settings.inbox / agency)
    async with client_for(ep) as client:
        for name, required in expected_names(agency, day):
            target = inbox / name
            published = await client.published_checksum(name)
            if published and target.exists() and file_checksum(target) == published:
                result.files.append({"file": name, "status": "unchanged", "bytes": target.stat().st_size,
                                     "sha256": published})
                continue
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=inbox)  # 0600, hidden
            os.close(fd)
            tmp = Path(tmp_name)
            try:
                try:
                    await client.download(name, tmp)
                except NotYetPublished as exc:
                    if required:
                        raise NotYetPublished(f"{agency} {day}: {exc}") from None
                    result.files.append({"file": name, "status": "absent", "bytes": 0, "sha256": None})
                    continue
                digest = file_checksum(tmp)
                if published and digest != published:
                    raise TransientPullError(f"{agency} {day}: {name} from {ep.describe()} does not match its "
                                             f"published SHA-256 (a partial upload or a damaged transfer)")
                if target.exists() and file_checksum(target) == digest:
                    status = "unchanged"
                else:
                    os.chmod(tmp, FILE_MODE)
                    os.replace(tmp, target)  # the file appears whole, or not at all
                    status = "fetched"
                result.files.append({"file": name, "status": status, "bytes": target.stat().st_size, "sha256": digest})
            finally:
                tmp.unlink(missing_ok=True)
    for f in result.files:
        if f["status"] != "absent":
            audit.record(settings, "fetch", agency=agency, file=f["file"], extract_date=day.isoformat(),
                         source=ep.describe(), status=f["status"], checksum=f["sha256"], bytes=f["bytes"])
    return result


def fetch_day(agency: str, day: dt.date, ep: Endpoint, settings: Settings) -> FetchResult:
    """Fetch ``agency``'s files of ``day`` from ``ep``. Raises ``NotYetPublished`` (poll again),
    ``TransientPullError`` (back off) or ``AuthenticationFailed`` (fail now)."""
    return asyncio.run(_fetch_all(agency, day, ep, settings.ensure()))

"""``ibet doctor``: is this home as the README says it should be? Each finding says how to fix it.

Checks, in order: the home and its settings; need-to-know modes (folders 0750, files 0640, the
key folder 0700, the key 0600, retired keys 0400: nothing for "others") and one owner; the key's
mode and strength; free disk space; the published set against the digests its audit recorded;
the audit trail's chain; raw files kept past retention.
"""
from __future__ import annotations

import os
import shutil
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from foundation import audit
from foundation.keys import MissingKeyError, fingerprint, key_path, load_key, retired_dir
from foundation.settings import HomeError, Settings, SettingsError

OK, WARNING, PROBLEM = "ok", "warning", "problem"
#: most findings listed per check (a home with thousands of wrong files says so once, with the count)
SHOWN = 5


@dataclass
class Finding:
    check: str
    status: str
    detail: str
    fix: str = ""


def _modes(settings: Settings) -> list[Finding]:
    home = settings.home
    owner = home.stat().st_uid
    keys = settings.keys.resolve()
    loose: list[str] = []
    foreign: list[str] = []
    for root, dirs, files in os.walk(home):
        for name in [*dirs, *files]:
            p = Path(root) / name
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                continue  # the published names are symlinks; their targets are checked as files
            mode = stat.S_IMODE(st.st_mode)
            inside_keys = p.resolve() == keys or keys in p.resolve().parents
            allowed = (0o700 if inside_keys else 0o750) if stat.S_ISDIR(st.st_mode) else (
                0o600 if inside_keys else 0o640)
            if mode & ~allowed:
                loose.append(f"{p.relative_to(home)} ({mode:04o})")
            if st.st_uid != owner:
                foreign.append(str(p.relative_to(home)))
    home_mode = stat.S_IMODE(home.stat().st_mode)
    out = []
    if home_mode & 0o027:
        out.append(Finding("modes", PROBLEM, f"the home itself is mode {home_mode:04o}", f"chmod 750 {home}"))
    if loose:
        out.append(Finding("modes", PROBLEM, f"{len(loose)} paths more open than need-to-know: "
                                             f"{', '.join(loose[:SHOWN])}{' …' if len(loose) > SHOWN else ''}",
                           f"chmod -R o-rwx,g-w {home} && chmod -R go-rwx {settings.keys}"))
    if foreign:
        out.append(Finding("ownership", PROBLEM, f"{len(foreign)} paths not owned by the home's owner (uid "
                                                 f"{owner}): {', '.join(foreign[:SHOWN])}"
                                                 f"{' …' if len(foreign) > SHOWN else ''}",
                           f"chown -R {owner} {home} (as root), and run ibet as that account only"))
    return out or [Finding("modes", OK, "folders 0750, files 0640, keys 0700/0600, one owner")]


def _key(settings: Settings) -> list[Finding]:
    try:
        key = load_key(settings)
    except MissingKeyError as exc:
        return [Finding("key", PROBLEM, str(exc), "ibet keygen (or fix the key file as the message says)")]
    out = [Finding("key", OK, f"key {fingerprint(key)} ({len(key)} bytes) from "
                              f"{'the environment' if os.environ.get('IBET_PSEUDONYM_KEY') else key_path(settings)}")]
    d = retired_dir(settings)
    for p in sorted(d.glob("*.key")) if d.is_dir() else []:
        mode = stat.S_IMODE(p.stat().st_mode)
        if mode != 0o400:
            out.append(Finding("key", PROBLEM, f"retired key {p.name} is mode {mode:04o}, not sealed (0400)",
                               f"chmod 400 {p}"))
    return out


def _disk(settings: Settings) -> list[Finding]:
    free_mb = shutil.disk_usage(settings.home).free // 2**20
    floor = settings.options.min_free_mb
    if free_mb < floor:
        return [Finding("disk", PROBLEM, f"{free_mb:,} MB free under {settings.home} (IBET_MIN_FREE_MB={floor:,})",
                        "free space, or purge what is past retention: ibet purge")]
    return [Finding("disk", OK, f"{free_mb:,} MB free")]


def _published(settings: Settings) -> list[Finding]:
    from warehouse.publish import PublishedIntegrityError, current_build_id, verify_published

    bid = current_build_id(settings)
    if bid is None:
        return [Finding("published", WARNING, "nothing published yet", "ibet build")]
    try:
        verify_published(settings, full=True)
    except PublishedIntegrityError as exc:
        return [Finding("published", PROBLEM, str(exc), "ibet build --force, or ibet publish --rollback")]
    except FileNotFoundError as exc:
        return [Finding("published", PROBLEM, f"build {bid}: {exc.filename} is missing",
                        "ibet publish --rollback, or ibet build --force")]
    return [Finding("published", OK, f"build {bid}: every file matches the digest its audit recorded")]


def _audit(settings: Settings) -> list[Finding]:
    v = audit.verify(settings)
    if not v.ok:
        return [Finding("audit", PROBLEM, f"audit trail broken: {v.problem}",
                        "keep the damaged log as evidence (copy it aside), find who changed it; "
                        "ibet audit --verify shows where")]
    return [Finding("audit", OK, f"{v.entries:,} entries, chain intact")]


def _retention(settings: Settings) -> list[Finding]:
    import datetime as dt

    from ibet.retention import expired_inbox

    late = expired_inbox(settings, dt.datetime.now(dt.timezone.utc))
    if late:
        return [Finding("retention", WARNING, f"{len(late)} raw partner files kept past retention "
                                              f"({settings.options.retention_inbox_days} days after ingest)",
                        "ibet purge (or enable the ibet_purge DAG)")]
    return [Finding("retention", OK, "no raw file kept past retention")]


def diagnose(settings: Settings) -> list[Finding]:
    """Every finding about ``settings``' home; never raises for what it finds."""
    try:
        settings.check()
        settings.options  # noqa: B018 - parse now
    except (HomeError, SettingsError) as exc:
        return [Finding("home", PROBLEM, str(exc), "ibet init, or fix the IBET_* setting named")]
    findings = [Finding("home", OK, str(settings.home))]
    for check in (_modes, _key, _disk, _published, _audit, _retention):
        findings += check(settings)
    return findings


def as_dicts(findings: list[Finding]) -> list[dict[str, str]]:
    return [asdict(f) for f in findings]

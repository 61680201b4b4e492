"""Accountability commands: doctor, audit, purge, publish (rollback)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Optional

import typer
from rich.table import Table

from ibet.cli.common import JSON_ALIAS, Exit, StatusFormat, console, fail, home, print_json, say, state, \
    status_format

_STYLE = {"ok": "green", "warning": "yellow", "problem": "red"}


def doctor(
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f", help="Output format.")] = "table",
    as_json: bool = JSON_ALIAS,
) -> None:
    """Check the home: modes and owner, the key, free disk, the published files' digests, the audit chain,
    retention. Each problem comes with its fix (exit 1 when there is one)."""
    from ibet.doctor import PROBLEM, as_dicts, diagnose
    from foundation.settings import get_settings

    findings = diagnose(get_settings())
    if status_format(fmt, as_json) == "json":
        print_json(as_dicts(findings))
    else:
        t = Table(title="ibet doctor")
        for c in ("check", "status", "detail", "fix"):
            t.add_column(c, overflow="fold")
        for f in findings:
            t.add_row(f.check, f"[{_STYLE[f.status]}]{f.status}[/{_STYLE[f.status]}]", f.detail, f.fix)
        console.print(t)
    if any(f.status == PROBLEM for f in findings):
        raise typer.Exit(int(Exit.FAILED))


def audit(
    since: Annotated[Optional[str], typer.Option("--since", help="Entries at or after this date or time (ISO, "
                                                                 "UTC when no offset: 2026-11-30 or "
                                                                 "2026-11-30T12:00).")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Verify the hash chain (exit 1 when it is broken).")]
    = False,
    action: Annotated[Optional[str], typer.Option("--action", help="Only this action (ingest, build, gate, "
                                                                   "publish, rollback, query, purge, key_...).")]
    = None,
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f", help="Output format.")] = "table",
    as_json: bool = JSON_ALIAS,
) -> None:
    """The audit trail: who ingested, built, published, queried and purged what, when; --verify checks it."""
    from foundation import audit as trail

    settings = home()
    start = None
    if since:
        try:
            start = dt.datetime.fromisoformat(since)
        except ValueError:
            fail(f"--since {since!r} is not an ISO date or time (e.g. 2026-11-30 or 2026-11-30T12:00)", Exit.USAGE)
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.timezone.utc)
    if verify:
        v = trail.verify(settings)
        if status_format(fmt, as_json) == "json":
            print_json({"ok": v.ok, "entries": v.entries, "problem": v.problem})
        elif v.ok:
            say(f"audit trail intact: {v.entries:,} entries, every hash and link verified")
        else:
            console.print(f"[red]audit trail broken[/red]: {v.problem}")
        if not v.ok:
            raise typer.Exit(int(Exit.FAILED))
        return
    rows = [e for e in trail.entries(settings, start) if action is None or e["action"] == action]
    if status_format(fmt, as_json) == "json":
        print_json(rows)
        return
    t = Table(title=f"audit trail ({len(rows):,} entries)")
    for c in ("#", "at (UTC)", "action", "user", "what"):
        t.add_column(c, overflow="fold")
    skip = {"seq", "at", "action", "user", "host", "pid", "prev", "hash"}
    for e in rows:
        what = ", ".join(f"{k}={_short(v)}" for k, v in e.items() if k not in skip and v not in (None, [], {}))
        t.add_row(str(e["seq"]), e["at"][:19], e["action"], e["user"], what)
    if not state.quiet:
        console.print(t)


def _short(v: object) -> str:
    text = str(v)
    return text if len(text) <= 80 else text[:77] + "…"


def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing.")] = False,
    key_id: Annotated[Optional[str], typer.Option("--key-id", help="Instead: remove the lake partitions "
                                                                   "pseudonymized under this retired key (after a "
                                                                   "rotation, what could not be re-keyed).")] = None,
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f", help="Output format.")] = "table",
    as_json: bool = JSON_ALIAS,
) -> None:
    """Delete what is past retention (raw inbox files, quarantine, rejected builds, old lake partitions),
    audit it, and rebuild the warehouse when lake partitions went."""
    from ibet.retention import purge as run

    settings = home()
    result = run(settings, dry_run=dry_run, key_id=key_id)
    if status_format(fmt, as_json) == "json":
        print_json(result.to_dict())
    else:
        verb = "would delete" if dry_run else "deleted"
        say(f"{verb} {len(result.deleted):,} paths ({len(result.lake_partitions):,} lake partitions)")
        for p in result.deleted[:50]:
            say(f"  {p}")
        if len(result.deleted) > 50:
            say(f"  … and {len(result.deleted) - 50:,} more (--format json lists every one)")
        if result.rebuilt:
            say("warehouse rebuilt and published without the purged partitions")
    if result.build_error:
        fail(f"purged, but the rebuild failed ({result.build_error}): the published files still hold the purged "
             "partitions until `ibet build --full` succeeds")


def publish(
    rollback: Annotated[Optional[str], typer.Option("--rollback", help="Switch back to an earlier published "
                                                                       "build (its id; 'previous' for the one "
                                                                       "before the current).")] = None,
    list_builds: Annotated[bool, typer.Option("--list", help="List the builds kept for rollback.")] = False,
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f", help="Output format.")] = "table",
    as_json: bool = JSON_ALIAS,
) -> None:
    """Published sets: list the ones kept, or roll back to one (atomic, audited, digests re-checked)."""
    from warehouse.publish import PublishError, current_build_id, kept_builds, publish_build

    settings = home()
    kept = kept_builds(settings)
    current = current_build_id(settings)
    if rollback is None:
        if status_format(fmt, as_json) == "json":
            print_json({"current": current, "kept": kept})
            return
        t = Table(title="published builds kept (newest first)")
        for c in ("build", "published at", "lake state", ""):
            t.add_column(c)
        for b in kept:
            t.add_row(b["build_id"], str(b.get("published_at", ""))[:19], str(b.get("fingerprint", ""))[:12],
                      "[green]current[/green]" if b["build_id"] == current else "")
        console.print(t)
        if not list_builds:
            say("roll back with: ibet publish --rollback BUILD_ID (or --rollback previous)")
        return
    if rollback == "previous":
        older = [b["build_id"] for b in kept if current and b["build_id"] < current]
        if not older:
            fail("no earlier published build is kept to roll back to", Exit.NOT_FOUND)
        rollback = older[0]
    if rollback not in {b["build_id"] for b in kept}:
        fail(f"build {rollback} is not a kept published build; `ibet publish --list` shows them", Exit.NOT_FOUND)
    try:
        publish_build(settings, rollback, rollback=True)
    except PublishError as exc:
        fail(str(exc))
    from warehouse.dictionary import refresh_after_publish

    refresh_after_publish(settings)
    say(f"rolled back: build {rollback} is published (was {current})")

"""What the DAG tasks do, as plain functions (testable without a scheduler).

Each task gets only counts, dates and file names through XCom; raw records never leave
the ingest task's process (they exist in memory between read and pseudonymization only).
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Iterable

from foundation.registry import get_agency
from foundation.settings import Settings, get_settings


def extract_date(context: Any) -> dt.date:
    """The extract date of a run: the (UTC) date of its data interval's start."""
    start = context.get("data_interval_start") or context.get("logical_date")
    if start is None:
        raise ValueError("this run has no data interval: ingest DAGs must be scheduled or given a logical date")
    return start.date()


def expected_files(agency: str, day: dt.date, settings: Settings | None = None) -> tuple[list[Path], list[Path]]:
    """(required, optional) inbox paths of ``agency``'s daily files for ``day``."""
    settings = settings or get_settings()
    required, optional = [], []
    for s in get_agency(agency).daily_sources:
        path = settings.inbox / s.agency / s.filename_for(day)
        (required if s.required else optional).append(path)
    return required, optional


def _changed_fiscal_files(agency: str, settings: Settings) -> list[Path]:
    """Fiscal-year files (finance) in the inbox that are new or changed since their last ingest."""
    from foundation.lake import file_checksum

    out = []
    for s in get_agency(agency).sources:
        if s.partition == "extract_date":
            continue
        for f in sorted((settings.inbox / s.agency).glob(s.file_glob)):
            key = s.match(f.name)
            if key is None:
                continue
            m = settings.lake_store.read_manifest(s.name, key) or {}
            if m.get("checksum") != file_checksum(f):
                out.append(f)
    return out


class RejectedExtract(RuntimeError):
    """A file of the day was rejected whole; retrying cannot help."""


def already_ingested(agency: str, path: Path, settings: Settings) -> dict[str, Any] | None:
    """The manifest of ``path`` when these very bytes were already ingested under the current key and their
    partitions are in the lake (so the daily pull and a push never ingest one file twice), else None."""
    from foundation.keys import fingerprint, load_key
    from foundation.lake import file_checksum
    from foundation.registry import source_for

    source, key = source_for(agency, path.name)
    m = settings.lake_store.read_manifest(source.name, key)
    if not m or m.get("file") != path.name or m.get("checksum") != file_checksum(path):
        return None
    if m.get("key_fingerprint") != fingerprint(load_key(settings)):
        return None
    current = settings.lake_store.digests()
    if any(current.get(rel, ("",))[0] != d for rel, d in (m.get("files") or {}).items()):
        return None
    return m


def ingest_day(agency: str, day: dt.date, settings: Settings | None = None, skip_ingested: bool = False
               ) -> dict[str, Any]:
    """Ingest every file of ``agency`` for ``day`` (and changed fiscal-year files); return the counts.

    Idempotent: re-running a day rewrites the same partitions with the same bytes. With ``skip_ingested``
    (the scheduled daily run, and a push), a file whose bytes are already in the lake is not ingested again:
    its counts come from its manifest.
    """
    from ibet.ingest import ingest_file

    settings = (settings or get_settings()).ensure()
    required, optional = expected_files(agency, day, settings)
    files = [p for p in (*required, *optional) if p.exists()] + _changed_fiscal_files(agency, settings)
    missing = [p.name for p in required if not p.exists()]
    if missing:
        raise FileNotFoundError(f"{agency} {day}: missing {', '.join(missing)}")
    counts, skipped, rejected, partitions = [], [], {}, set()
    for f in files:
        done = already_ingested(agency, f, settings) if skip_ingested else None
        if done is not None:
            skipped.append(f.name)
            counts.append((f.name, done["rows_read"], done["rows_loaded"], done["rows_quarantined"]))
            partitions.add(done["partition"])
            continue
        r = ingest_file(agency, f, settings=settings)
        counts.append((r.file, r.rows_read, r.rows_loaded, r.rows_quarantined))
        if r.ok:
            partitions.add(r.partition)
        else:
            rejected[r.file] = r.reason
    summary = {
        "agency": agency, "extract_date": day.isoformat(),
        "files": [c[0] for c in counts],
        "rows_read": sum(c[1] for c in counts),
        "rows_loaded": sum(c[2] for c in counts),
        "rows_quarantined": sum(c[3] for c in counts),
        "partitions": sorted(partitions),
        "rejected": rejected,
        "already_ingested": skipped,
    }
    if summary["rejected"]:  # each reason starts with its file name
        raise RejectedExtract("rejected: " + "; ".join(summary["rejected"].values()))
    return summary


def verify_counts(summary: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """Check conservation from the manifests just written: read = loaded + quarantined, per file."""
    from foundation.registry import source_for

    settings = settings or get_settings()
    problems = []
    for name in summary["files"]:
        source, key = source_for(summary["agency"], name)
        m = settings.lake_store.read_manifest(source.name, key)
        if m is None or m.get("file") != name:
            problems.append(f"{name}: no manifest")
        elif m["rows_read"] != m["rows_loaded"] + m["rows_quarantined"]:
            problems.append(f"{name}: read {m['rows_read']} != loaded {m['rows_loaded']} + quarantined "
                            f"{m['rows_quarantined']}")
    if problems:
        raise RuntimeError("counts do not reconcile: " + "; ".join(problems))
    return {k: summary[k] for k in ("agency", "extract_date", "rows_read", "rows_loaded", "rows_quarantined")}


def plan_from_events(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """What the triggering asset events say landed: agency -> extract dates and counts."""
    landed: dict[str, dict[str, Any]] = {}
    for extra in events:
        if not extra or "agency" not in extra:
            continue
        entry = landed.setdefault(extra["agency"], {"extract_dates": [], "rows_loaded": 0})
        entry["extract_dates"] = sorted(set(entry["extract_dates"]) | {extra["extract_date"]})
        entry["rows_loaded"] += int(extra.get("rows_loaded", 0))
    return {"landed": landed, "triggered_by_events": bool(landed)}


def build_warehouse(plan: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """Refresh staging (only the changed partitions) and build a new, unpublished build directory."""
    from warehouse.build import build_candidates

    settings = settings or get_settings()
    result = build_candidates(settings)
    out = result.summary()
    out["plan"] = plan
    return out


class QualityGateFailed(RuntimeError):
    """The gate blocked the build: the message lists the failed expectations."""


def quality_gate(build: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """Audit exactly the build the build task made (its id comes through XCom); blocked builds are moved aside."""
    from warehouse.build import gate_build

    settings = settings or get_settings()
    if build.get("skipped"):
        return {"skipped": True}
    gate, message, rejected_to = gate_build(settings, build["build_id"])
    if rejected_to:
        failures = [f"{o['audience']}/{o['suite']}: {f}" for o in gate["outcomes"] if o["blocking"]
                    for f in o["failed"]]
        raise QualityGateFailed(f"quality gate failed, published files unchanged, build kept in {rejected_to}: "
                                + "; ".join(failures))
    return {"success": True, "build_id": build["build_id"], "message": message, "docs_index": gate["docs_index"],
            "warnings": [f for o in gate["outcomes"] if not o["blocking"] for f in o["failed"]]}


def publish_warehouse(gate: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """Publish the build the gate audited (nothing to do when the build was skipped)."""
    from warehouse.build import publish_candidates
    from warehouse.publish import PublishError

    settings = settings or get_settings()
    if gate.get("skipped"):
        return {"published": [], "reason": "nothing changed since the last publication"}
    try:
        paths = publish_candidates(settings, gate["build_id"])
    except PublishError as exc:
        if "older than the published build" in str(exc):  # a newer run got there first: nothing lost
            return {"published": [], "reason": str(exc)}
        raise
    return {"published": [str(p) for p in paths], "build_id": gate["build_id"]}


def purge_expired(settings: Settings | None = None) -> dict[str, Any]:
    """The purge DAG's task: what went (paths relative to the home), and whether the rebuild published."""
    from ibet.retention import purge

    settings = settings or get_settings()
    result = purge(settings)
    if result.build_error:
        raise RuntimeError(f"purged {len(result.lake_partitions)} lake partitions but the rebuild failed "
                           f"({result.build_error.split(':')[0]}): run `ibet build --full`")
    return {"deleted": len(result.deleted), "lake_partitions": result.lake_partitions, "rebuilt": result.rebuilt}


class ExtractNotPulled(RuntimeError):
    """The day's extract could not be pulled by its deadline, or the source refused us: the run fails."""


def pull_extract(agency: str, day: dt.date, deadline: dt.datetime, connection: Any | None,
                 settings: Settings | None = None, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """The ingest DAG's first step: fetch the day's files from the agency's source into its inbox.

    ``connection`` is the Airflow Connection ``ibet_<agency>`` (None: the agency drops files in the inbox
    itself, nothing to pull). Returns what was fetched, or None while the file is not published yet (the
    sensor polls again). A network or server failure raises ``TransientPullError``: the task fails and
    Airflow retries it with exponential back-off. Raises ``ExtractNotPulled`` when the deadline passed
    (naming agency, date and source) or the source refused the credentials (at once, never retried).
    """
    from ibet.pull.endpoint import from_connection
    from ibet.pull.errors import AuthenticationFailed, NotYetPublished, TransientPullError
    from ibet.pull.fetch import fetch_day

    if connection is None:
        return {"agency": agency, "extract_date": day.isoformat(), "source": "inbox", "files": []}
    settings = settings or get_settings()
    ep = from_connection(connection, agency)
    now = now or dt.datetime.now(dt.timezone.utc)
    try:
        result = fetch_day(agency, day, ep, settings)
    except AuthenticationFailed as exc:
        raise ExtractNotPulled(f"{agency} {day}: {exc}") from None
    except (NotYetPublished, TransientPullError) as exc:
        if now >= deadline:
            raise ExtractNotPulled(f"{agency} extract for {day} not pulled from {ep.describe()} by its deadline "
                                   f"{deadline:%Y-%m-%d %H:%M} UTC: {exc}") from None
        if isinstance(exc, TransientPullError):
            raise
        from foundation.logs import get_logger

        get_logger(settings).info("%s %s: %s; polling again", agency, day, exc)
        return None
    return {"agency": agency, "extract_date": day.isoformat(), "source": result.source, "files": result.files}


#: what an announcement on the push channel must carry
ANNOUNCEMENT_FIELDS = ("agency", "file", "extract_date")


def parse_announcements(extras: Iterable[dict[str, Any] | None]) -> tuple[dict[str, list[dict[str, str]]], list[str]]:
    """The push channel's messages (asset event extras of the Redis watcher) -> valid announcements per agency,
    and why each other message was dropped. A message is JSON ``{"agency", "file", "extract_date"}`` whose
    file is that agency's ICD name for that date. The reasons quote no message content (it is untrusted)."""
    from foundation.registry import AGENCIES, source_for

    accepted: dict[str, list[dict[str, str]]] = {}
    dropped: list[str] = []
    for i, extra in enumerate(extras):
        payload = (extra or {}).get("payload") or {}
        data = payload.get("data") if isinstance(payload, dict) else None
        try:
            msg = json.loads(data) if isinstance(data, (str, bytes)) else None
        except ValueError:
            msg = None
        if not isinstance(msg, dict) or not all(isinstance(msg.get(k), str) for k in ANNOUNCEMENT_FIELDS):
            dropped.append(f"message {i + 1}: not a JSON object with string fields {', '.join(ANNOUNCEMENT_FIELDS)}")
            continue
        agency = msg["agency"]
        if agency not in AGENCIES:
            dropped.append(f"message {i + 1}: unknown agency")
            continue
        try:
            day = dt.date.fromisoformat(msg["extract_date"])
            source, key = source_for(agency, msg["file"])
        except ValueError:
            dropped.append(f"message {i + 1}: {agency}: not one of its file names, or not a date")
            continue
        if source.partition != "extract_date" or key != day.isoformat():
            dropped.append(f"message {i + 1}: {agency}: the file is not its daily extract of that date")
            continue
        item = {"file": msg["file"], "extract_date": day.isoformat()}
        if item not in accepted.setdefault(agency, []):
            accepted[agency].append(item)
    return accepted, dropped


def ingest_announced(agency: str, items: list[dict[str, str]], connection: Any | None,
                     settings: Settings | None = None) -> list[dict[str, Any]]:
    """Pull (when the agency has a connection) and ingest each announced day at once; a file whose bytes are
    already in the lake is not ingested again. Returns one summary per day."""
    from ibet.pull.endpoint import from_connection
    from ibet.pull.fetch import fetch_day

    settings = (settings or get_settings()).ensure()
    out = []
    for item in items:
        day = dt.date.fromisoformat(item["extract_date"])
        if connection is not None:
            fetch_day(agency, day, from_connection(connection, agency), settings)
        elif not (settings.inbox / agency / item["file"]).exists():
            raise FileNotFoundError(f"{agency} announced {item['file']} for {day}, but it is not in "
                                    f"{settings.inbox / agency} and the agency has no connection to pull from")
        out.append(ingest_day(agency, day, settings, skip_ingested=True))
    return out

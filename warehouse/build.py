"""Build the per-audience DuckDB files from the staged lake, audit them, publish them as one set.

``build_all`` (``ibet build``, and the marts DAG step by step) holds one lock from the build
through the quality gate to the publication. It refreshes the staged copy of the lake (only
changed partitions), writes each audience's file into a new build directory
(``warehouse/builds/<build id>/``), lets the Great Expectations gate audit them there, records
the digests it audited, and publishes by switching the ``current`` pointer (``publish.py``).
A blocked build moves to ``warehouse/rejected/<build id>/``; the published set never changes
then. Nothing is ever written into a published file.

Audiences (DOMAIN.md): ``ibet`` sees REL_IBET, ``can`` REL_IBET + REL_CAN, ``usa``
REL_IBET + REL_USA; ``evaluator`` gets aggregates of every shareable caveat with small
counts suppressed. ORCON reaches no file: no audience lists it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


from foundation import audit, reference
from foundation.lake import read_json
from foundation.logs import get_logger
from foundation.settings import AUDIENCES, SUPPRESSION_THRESHOLD, Settings, get_settings
from warehouse import constraints, runner, suppression
from warehouse.audience_build import build_audience
from warehouse.publish import (AudienceBuild, BuildLockedError, PublishedIntegrityError, PublishError, build_dir,
                               build_lock, clean_stale, current_dir, latest_unpublished, publish_build, published_path,
                               read_manifest, record_audit, reject_build, start_build, verify_published,
                               write_manifest)
from warehouse.staging import RefreshResult, refresh

__all__ = ["AudienceBuild", "BuildLockedError", "BuildResult", "PublishError", "build_all", "build_candidates",
           "candidates", "gate_and_publish", "gate_build", "publish_candidates", "published_base", "published_path",
           "write_set"]


@dataclass
class BuildResult:
    """What ``build_all`` produced, and whether it was published."""

    refresh: RefreshResult
    audiences: dict[str, AudienceBuild]
    build_id: str = ""
    published: bool = False
    skipped: bool = False  #: nothing changed since the published build
    gate_message: str = ""
    gate: dict = field(default_factory=dict)  #: the quality gate's result, when it ran
    rejected_to: str = ""  #: where a blocked build was moved
    seconds: float = 0.0

    def summary(self) -> dict:
        return {
            "build_id": self.build_id, "published": self.published, "skipped": self.skipped,
            "gate": self.gate_message, "gate_success": self.gate.get("success"), "rejected_to": self.rejected_to,
            "changed_partitions": len(self.refresh.changed), "removed_partitions": len(self.refresh.removed),
            "seconds": round(self.seconds, 2),
            "audiences": {a: {"file": str(b.published), "tables": b.tables, "seconds": round(b.seconds, 2),
                              "events_redone": b.touched_events}
                          for a, b in self.audiences.items()},
        }


def logic_fingerprint() -> str:
    """Digest of what a build does, apart from the data: reference data, mart SQL and declarations, suppression."""
    h = hashlib.sha256()
    paths = [reference.reference_path(n) for n in ("regions.csv", "unit_regions.csv", "fx_rates.csv",
                                                    "program_reference.yml")]
    paths += runner.sql_files(runner.AUDIENCE_LAYERS + ("90_evaluator",)) + constraints.declaration_files() + [
        Path(suppression.__file__)]
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    h.update(str(SUPPRESSION_THRESHOLD).encode())
    return h.hexdigest()


def build_fingerprint(refreshed: RefreshResult) -> str:
    """Digest of the staged data, the reference data and the mart SQL: what a build depends on."""
    return hashlib.sha256(f"{refreshed.fingerprint}:{logic_fingerprint()}".encode()).hexdigest()


def published_base(settings: Settings) -> dict:
    """The published build's record of the staged lake it was made from ({} when none is published)."""
    d = current_dir(settings)
    return read_manifest(d) if d else {}


def incremental_since(base: dict, refreshed: RefreshResult, logic: str) -> int | None:
    """Touch-log position to redo the published files from, or None when the build must be full.

    Full when nothing is published, when the published files came from another staged copy
    (a full reload starts a new epoch), or when the SQL, the reference data or the declarations
    changed since (every row may differ then).
    """
    if (base.get("state") != "published" or base.get("logic_fingerprint") != logic
            or base.get("staging_epoch") != refreshed.epoch or base.get("staging_sequence") is None
            or int(base["staging_sequence"]) > refreshed.sequence):
        return None
    return int(base["staging_sequence"])


def _state_path(settings: Settings) -> Path:
    return settings.warehouse / ".build" / "published.json"


def _up_to_date(settings: Settings, fingerprint: str, audiences: tuple[str, ...], verify: bool) -> bool:
    """Same inputs as the published set, and the published files as audited (sizes; digests with ``verify``)."""
    state = read_json(_state_path(settings)) or {}
    if state.get("fingerprint") != fingerprint or not all(
            published_path(settings, a).exists() and a in state.get("audiences", []) for a in audiences):
        return False
    try:
        verify_published(settings, full=verify)
    except PublishedIntegrityError as exc:
        get_logger(settings).warning("%s: rebuilding", exc)
        return False
    return True


def build_candidates(settings: Settings | None = None, full: bool = False, force: bool = False,
                     audiences: tuple[str, ...] = tuple(AUDIENCES),
                     progress: Callable[[str], None] | None = None, verify: bool = False) -> BuildResult:
    """Refresh staging and write every audience file into a new build directory; nothing is published yet.

    Skips (``result.skipped``) when nothing in the lake, the reference data or the SQL
    changed since the published files were written, unless ``force``.
    """
    settings = (settings or get_settings()).ensure()
    say = progress or (lambda _m: None)
    started = time.monotonic()
    log = get_logger(settings)
    with build_lock(settings):
        cleaned = clean_stale(settings)
        if cleaned:
            log.info("removed what an earlier build left: %s", ", ".join(cleaned))
        say("refreshing the staged lake")
        base = {} if full else published_base(settings)
        refreshed = refresh(settings, full=full, verify=verify,
                            prune_through=base.get("staging_sequence"))
        log.info("staging refresh: full=%s changed=%d removed=%d rows=%s", refreshed.full, len(refreshed.changed),
                 len(refreshed.removed), refreshed.rows)
        result = BuildResult(refresh=refreshed, audiences={})
        fingerprint = build_fingerprint(refreshed)
        if not force and _up_to_date(settings, fingerprint, audiences, verify):
            result.skipped = True
            result.audiences = {a: AudienceBuild(a, published_path(settings, a), published_path(settings, a))
                                for a in audiences}
        else:
            result.build_id, result.audiences = write_set(settings, refreshed, base, audiences, say, verify)
        audit.record(settings, "build", build_id=result.build_id, skipped=result.skipped, lake_state=fingerprint,
                     partitions_changed=len(refreshed.changed), partitions_removed=len(refreshed.removed),
                     audiences=sorted(audiences))
        result.seconds = time.monotonic() - started
        return result


def write_set(settings: Settings, refreshed: RefreshResult, base: dict, audiences: tuple[str, ...],
              say: Callable[[str], None] = lambda _m: None, verify: bool = False) -> tuple[str, dict[str, AudienceBuild]]:
    """Write every audience file of a new build (incrementally from the published ``base`` when it can) and
    its manifest; the build id and the files. The caller holds the build lock and has refreshed staging.

    The published files are only started from when they are still the files the gate audited
    (sizes; digests too with ``verify``); otherwise the build is full."""
    build_id, directory = start_build(settings)
    logic = logic_fingerprint()
    since = incremental_since(base, refreshed, logic)
    if since is not None:
        try:
            verify_published(settings, full=verify)
        except PublishedIntegrityError as exc:
            get_logger(settings).warning("%s: building in full", exc)
            since = None
    built: dict[str, AudienceBuild] = {}
    # the evaluator first: its work database holds every shareable fact, which the analyst files copy
    for audience in sorted(audiences, key=lambda a: a != "evaluator"):
        say(f"building {audience}.duckdb" + (" (the events changed since the published build)"
                                              if since is not None and audience != "evaluator" else ""))
        built[audience] = build_audience(settings, audience, directory, since=since)
    write_manifest(directory, state="built", fingerprint=build_fingerprint(refreshed), audiences=sorted(built),
                   logic_fingerprint=logic, staging_epoch=refreshed.epoch, staging_sequence=refreshed.sequence,
                   touched_events={a: b.touched_events for a, b in built.items()},
                   agency_events=refreshed.agency_events, built_at=dt.datetime.now(dt.timezone.utc).isoformat(),
                   tables={a: b.tables for a, b in built.items()})
    return build_id, built


def candidates(settings: Settings, build_id: str | None = None) -> dict[str, AudienceBuild]:
    """The files of an unpublished build (the newest one when no id is given); empty when there is none."""
    bid = build_id or latest_unpublished(settings)
    if not bid:
        return {}
    d = build_dir(settings, bid)
    m = read_manifest(d)
    if m.get("state") not in ("built", "audited"):
        return {}
    return {a: AudienceBuild(a, d / f"{a}.duckdb", published_path(settings, a), m.get("tables", {}).get(a, {}))
            for a in m.get("audiences", []) if (d / f"{a}.duckdb").exists()}


def gate_build(settings: Settings, build_id: str) -> tuple[dict, str, str]:
    """Audit a build with the quality gate: (gate result, message, where it was rejected or "")."""
    from warehouse.quality.gate import run_gate, write_history_into

    with build_lock(settings):
        d = build_dir(settings, build_id)
        files = {a: b.candidate for a, b in candidates(settings, build_id).items()}
        if not files:
            raise PublishError(f"build {build_id} has no files to audit (state: {read_manifest(d).get('state')})")
        missing = sorted(set(read_manifest(d).get("audiences", [])) - set(files))
        if missing:  # a set is published whole or not at all
            reason = f"incomplete build: {', '.join(missing)} missing"
            gate_dict = {"success": False, "outcomes": [], "message": reason}
            rejected = str(reject_build(settings, build_id, gate_dict))
            audit.record(settings, "gate", build_id=build_id, success=False, failed_suites=[reason],
                         rejected_to=rejected)
            return gate_dict, reason, rejected
        gate = run_gate(settings, files)
        outcomes = gate.to_dict().get("outcomes", [])
        failed = sorted(f"{o['audience']}/{o['suite']}" for o in outcomes if o.get("blocking") and o.get("failed"))
        if not gate.success:
            rejected = str(reject_build(settings, build_id, gate.to_dict()))
            audit.record(settings, "gate", build_id=build_id, success=False, failed_suites=failed,
                         rejected_to=rejected)
            return gate.to_dict(), gate.message(), rejected
        write_history_into(list(files.values()), settings)
        manifest = record_audit(d, gate.to_dict())
        audit.record(settings, "gate", build_id=build_id, success=True, digests=manifest.get("digests"))
        return gate.to_dict(), gate.message(), ""


def gate_and_publish(settings: Settings, result: BuildResult, publish_files: bool = True) -> BuildResult:
    """Audit a built result with the quality gate, then publish it, or leave it rejected."""
    with build_lock(settings):
        result.gate, result.gate_message, result.rejected_to = gate_build(settings, result.build_id)
        if publish_files and not result.rejected_to:
            publish_build(settings, result.build_id)
            result.published = True
    if result.published:
        from warehouse.dictionary import refresh_after_publish

        refresh_after_publish(settings)
    return result


def publish_candidates(settings: Settings | None = None, build_id: str | None = None) -> list[Path]:
    """Publish an audited build (the newest one when no id is given)."""
    settings = settings or get_settings()
    bid = build_id or latest_unpublished(settings, ("audited",))
    if not bid:
        raise FileNotFoundError("no audited, unpublished build: run the build and the quality gate first")
    paths = publish_build(settings, bid)
    from warehouse.dictionary import refresh_after_publish

    refresh_after_publish(settings)
    return paths


def build_all(settings: Settings | None = None, full: bool = False, publish_files: bool = True,
              gate: bool = True, force: bool = False, audiences: tuple[str, ...] = tuple(AUDIENCES),
              progress: Callable[[str], None] | None = None, verify: bool = False) -> BuildResult:
    """Build, audit and publish under one lock: ``ibet build`` in one call.

    ``gate=False`` publishes without auditing (tests of the marts themselves use it); the
    digests are recorded all the same, so publication still refuses an altered file.
    """
    settings = (settings or get_settings()).ensure()
    say = progress or (lambda _m: None)
    started = time.monotonic()
    with build_lock(settings):
        result = build_candidates(settings, full=full, force=force, audiences=audiences, progress=progress,
                                  verify=verify)
        if result.skipped:
            return result
        if gate:
            say("running the quality gate (Great Expectations), then publishing")
            gate_and_publish(settings, result, publish_files=publish_files)
        else:
            record_audit(build_dir(settings, result.build_id), {"success": None})
            if publish_files:
                say("publishing")
                publish_candidates(settings, result.build_id)
                result.published = True
    result.seconds = time.monotonic() - started
    return result

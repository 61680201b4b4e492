"""One place for runtime configuration: where data lives, which key, which audiences, how DAGs run.

Everything the product writes lives under ``IBET_HOME`` (default ``./var``) so that a
deployment has exactly one volume to back up, mount or wipe. A home is created on
purpose (``ibet init``); a mistyped ``IBET_HOME`` is refused, never silently created.

Tunable options (``IBET_*`` variables) are parsed and validated by pydantic-settings,
from the environment first, then from the home's own ``ibet.env`` (written by
``ibet init``), then the defaults below. A bad value gives one clear line naming the
variable, never a traceback in the middle of DAG parsing.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from foundation.vocabulary import REL_CAN, REL_IBET, REL_USA

if TYPE_CHECKING:
    from foundation.lakestore import LakeStore

#: Environment variable naming the runtime home.
HOME_ENV = "IBET_HOME"
#: Default home, relative to the working directory.
DEFAULT_HOME = "var"
#: Settings file of a home (``KEY=value`` lines; the environment wins over it).
HOME_ENV_FILE = "ibet.env"
#: Environment variable that may carry the pseudonymization key (hex, >= 32 bytes).
KEY_ENV = "IBET_PSEUDONYM_KEY"
#: Environment variable that may name a key file instead.
KEY_FILE_ENV = "IBET_PSEUDONYM_KEY_FILE"

#: Published warehouse audiences and the caveats each may read (DOMAIN.md, releasability).
AUDIENCES: dict[str, tuple[str, ...]] = {
    "ibet": (REL_IBET,),
    "can": (REL_IBET, REL_CAN),
    "usa": (REL_IBET, REL_USA),
    "evaluator": (REL_IBET, REL_CAN, REL_USA),
}
#: Smallest count the aggregate-only evaluator warehouse may show.
SUPPRESSION_THRESHOLD = 5


class HomeError(RuntimeError):
    """IBET_HOME does not name a home (missing, or not created with ``ibet init``)."""


class SettingsError(ValueError):
    """An ``IBET_*`` option has a value that cannot be used; the message names the variable."""


class Options(BaseSettings):
    """Options an operator tunes; each is the environment variable ``IBET_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="IBET_", extra="ignore", validate_default=True)

    dags_start: dt.date = Field(dt.date(2026, 11, 1), description="First extract date the ingest DAGs schedule.")
    dags_end: dt.date | None = Field(None, description="Last extract date (a bounded backfill or test).")
    dags_catchup: bool = Field(True, description="Schedule every missed day since dags_start.")
    extract_wait_hours: float = Field(12.0, gt=0, description="How long an ingest DAG waits for a late file.")
    extract_poll_seconds: float = Field(60.0, gt=0, description="How often the triggerer looks for the file.")
    extract_late_hours: float = Field(6.0, gt=0, description="After this long without the day's file (from the "
                                                             "run being queued) an 'extract late' alert is sent.")
    freshness_lag_days: int = Field(2, ge=0, description="Days an agency may lag the newest extract before the "
                                                         "gate warns.")
    volume_low: float = Field(0.25, ge=0, description="Gate warning when an agency's newest extract holds fewer "
                                                      "than this share of its recent median rows.")
    volume_high: float = Field(4.0, gt=0, description="Gate warning when it holds more than this multiple.")
    quality_docs_runs: int = Field(30, ge=1, description="Results of each gate suite Great Expectations' Data "
                                                         "Docs keep (older runs stay in the quality history): "
                                                         "the gate's time stays flat as the runs add up.")
    max_file_mb: int = Field(4096, gt=0, description="Largest partner file ingested (MB); a bigger one is rejected "
                                                     "unread.")
    batch_mb: float = Field(16.0, gt=0, description="Ingest works through a file in batches of about this many MB "
                                                     "of input: memory stays flat whatever the file's size.")
    log_format: Literal["text", "json"] = Field("text", description="Format of IBET_HOME/logs/ibet.log.")
    log_max_bytes: int = Field(10_000_000, gt=0, description="Size at which ibet.log rotates.")
    log_backups: int = Field(5, ge=0, description="Rotated logs kept.")
    alert_conn_id: str = Field("ibet_alerts", description="Airflow connection that receives alerts "
                                                          "(http(s) webhook or smtp); absent = log only.")
    lake_uri: str = Field("", description="Where the lake lives: empty = IBET_HOME/lake, a local path, or "
                                          "s3://bucket/prefix (S3-compatible object storage; credentials from "
                                          "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_ENDPOINT_URL only).")
    push_enabled: bool = Field(False, description="Start an agency's ingest as soon as it announces a file on "
                                                  "Redis (the ibet_push DAG and its AssetWatcher); the daily "
                                                  "pull stays the safety net.")
    push_channel: str = Field("ibet.extracts", description="Redis pub/sub channel of the announcements.")
    push_conn_id: str = Field("ibet_redis", description="Airflow Connection of the Redis server announcements "
                                                       "are published on.")
    retry_delay_seconds: float = Field(60.0, gt=0, description="First retry delay of a task that failed on "
                                                               "infrastructure (doubles per try, up to 30 min).")
    owner_link: str = Field("mailto:ibet-data-engineering@example.org",
                            description="Where the DAG owner is reached (shown in the Airflow UI).")
    # Retention (README, "Retention"): `ibet purge` and the daily ibet_purge DAG apply it. 0 = keep forever.
    retention_inbox_days: int = Field(7, ge=0, description="Days a raw partner file (names, birth dates) is kept "
                                                           "after its successful ingest: a week to re-run or "
                                                           "re-key, no longer.")
    retention_quarantine_days: int = Field(90, ge=0, description="Days quarantined records (no raw personal "
                                                                  "values) are kept for the agencies to fix them.")
    retention_rejected_days: int = Field(30, ge=0, description="Days a rejected build, a rejected file's error "
                                                                "record and the rejected raw file are kept.")
    retention_lake_days: int = Field(3650, ge=0, description="Days of extracts the lake keeps (by extract date; "
                                                              "ten years: two five-year program cycles and their "
                                                              "evaluations). Older partitions are purged and the "
                                                              "warehouse rebuilt.")
    min_free_mb: int = Field(1024, ge=0, description="Free disk space below which `ibet doctor` reports a problem.")


def _explain(exc: ValidationError) -> str:
    lines = []
    for e in exc.errors():
        name = "IBET_" + "_".join(str(p) for p in e["loc"]).upper()
        got = e.get("input")
        shown = f" (got {got!r})" if isinstance(got, (str, int, float)) and len(str(got)) < 60 else ""
        lines.append(f"{name}: {e['msg'].rstrip('.')}{shown}")
    return "invalid setting: " + "; ".join(lines)


def load_options(env_file: Path | None = None) -> Options:
    """The options from the environment, then ``env_file``, then the defaults; a clear error otherwise."""
    try:
        return Options(_env_file=env_file if env_file is not None and env_file.is_file() else None)
    except ValidationError as exc:
        raise SettingsError(_explain(exc)) from None


@dataclass(frozen=True)
class Settings:
    """Resolved paths of one runtime home, and its options."""

    home: Path

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def lake(self) -> Path:
        """The lake's local folder: the lake itself, or (with an ``s3://`` IBET_LAKE_URI) where this host
        keeps its lake lock. Read and write partitions and manifests through ``lake_store``."""
        uri = self.options.lake_uri
        if uri and "://" not in uri:
            return Path(uri).expanduser().resolve()
        if uri.startswith("file://"):
            return Path(uri[len("file://"):]).resolve()
        return self.home / "lake"

    @cached_property
    def lake_store(self) -> "LakeStore":
        """The lake's partitions and manifests, local or on object storage (``IBET_LAKE_URI``)."""
        from foundation.lakestore import open_lake

        uri = self.options.lake_uri
        return open_lake(self.lake, uri if uri.startswith("s3://") else None)

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse"

    @property
    def keys(self) -> Path:
        return self.home / "keys"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def audit(self) -> Path:
        """The hash-chained audit trail (``audit.jsonl``)."""
        return self.home / "audit"

    @property
    def docs(self) -> Path:
        """The data dictionary site (one page per audience)."""
        return self.home / "docs"

    @property
    def reference(self) -> Path:
        """Optional operator overrides of the shipped reference data (regions, units)."""
        return self.home / "reference"

    @property
    def env_file(self) -> Path:
        return self.home / HOME_ENV_FILE

    @cached_property
    def options(self) -> Options:
        return load_options(self.env_file)

    def exists(self) -> bool:
        return self.home.is_dir()

    def check(self) -> "Settings":
        """Refuse a home that does not exist: a mistyped IBET_HOME must not become a new, empty one."""
        if not self.home.is_dir():
            origin = f"{HOME_ENV}={os.environ[HOME_ENV]}" if os.environ.get(HOME_ENV) else \
                f"the default home ./{DEFAULT_HOME} ({HOME_ENV} is not set)"
            raise HomeError(f"no IBET home at {self.home}: {origin}. Create one with `ibet init` "
                            f"(or point {HOME_ENV} at an existing home)")
        return self

    def ensure(self) -> "Settings":
        """Create the runtime folders inside an existing home (idempotent); refuse a missing home.

        Also tightens this process's umask to 027: files that libraries create (DuckDB databases,
        GX pages, logs) are then no more open than the 0640/0750 ibet sets on its own files.
        """
        self.check()
        os.umask(os.umask(0o027) | 0o027)
        for p in (self.inbox, self.lake, self.quarantine, self.warehouse, self.keys, self.logs, self.audit):
            p.mkdir(mode=0o750, exist_ok=True)
        os.chmod(self.keys, 0o700)
        return self


def get_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    """Settings for ``home``, else ``$IBET_HOME``, else ``./var`` (not checked: see ``Settings.check``)."""
    raw = home if home is not None else (os.environ.get(HOME_ENV) or DEFAULT_HOME)
    return Settings(home=Path(raw).expanduser().resolve())


def get_options() -> Options:
    """Options of the current home (``IBET_HOME`` or ``./var``), whether or not it exists yet."""
    return get_settings().options


def init_home(home: str | os.PathLike[str] | None = None, overrides: dict[str, str] | None = None) -> Settings:
    """Create a home on purpose (idempotent): folders, and ``ibet.env`` with ``overrides`` recorded.

    ``overrides`` maps option names (``dags_start``) to values; they are validated before
    anything is written, and replace the same keys of an existing ``ibet.env``.
    """
    settings = get_settings(home)
    values = {f"IBET_{k.upper()}": str(v) for k, v in (overrides or {}).items()}
    if values:  # validate first: a bad value must not be written into the home
        try:
            Options(**{k.removeprefix("IBET_").lower(): v for k, v in values.items()})
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from None
    settings.home.mkdir(mode=0o750, parents=True, exist_ok=True)
    settings.ensure()
    lines = settings.env_file.read_text().splitlines() if settings.env_file.is_file() else [
        "# ibet-warehouse settings of this home. The environment wins over this file;",
        "# every option and its default: `ibet config`.",
    ]
    kept = [ln for ln in lines if ln.split("=", 1)[0].strip() not in values]
    text = "\n".join(kept + [f"{k}={v}" for k, v in values.items()]) + "\n"
    tmp = settings.env_file.with_name(HOME_ENV_FILE + ".tmp")
    tmp.write_text(text)
    os.chmod(tmp, 0o640)
    os.replace(tmp, settings.env_file)
    return Settings(home=settings.home)  # a fresh instance: the options read above predate the file just written

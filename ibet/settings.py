"""One place for runtime configuration: where data lives, which key, which audiences.

Everything the product writes lives under ``IBET_HOME`` (default ``./var``) so that a
deployment has exactly one volume to back up, mount or wipe.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Environment variable naming the runtime home.
HOME_ENV = "IBET_HOME"
#: Environment variable that may carry the pseudonymization key (hex, >= 32 bytes).
KEY_ENV = "IBET_PSEUDONYM_KEY"
#: Environment variable that may name a key file instead.
KEY_FILE_ENV = "IBET_PSEUDONYM_KEY_FILE"

#: Published warehouse audiences and the caveats each may read (DOMAIN.md, releasability).
AUDIENCES: dict[str, tuple[str, ...]] = {
    "ibet": ("REL_IBET",),
    "can": ("REL_IBET", "REL_CAN"),
    "usa": ("REL_IBET", "REL_USA"),
    "evaluator": ("REL_IBET", "REL_CAN", "REL_USA"),
}
#: Smallest count the aggregate-only evaluator warehouse may show.
SUPPRESSION_THRESHOLD = 5


#: Orchestration defaults (environment overrides, read when the DAG files are parsed).
DAGS_START_ENV = "IBET_DAGS_START"  #: first extract date the DAGs schedule (YYYY-MM-DD)
DAGS_END_ENV = "IBET_DAGS_END"  #: optional last extract date (a bounded backfill or test)
DAGS_CATCHUP_ENV = "IBET_DAGS_CATCHUP"  #: "false" to schedule only the latest day
EXTRACT_WAIT_ENV = "IBET_EXTRACT_WAIT_HOURS"  #: how long an ingest DAG waits for a late file
EXTRACT_POLL_ENV = "IBET_EXTRACT_POLL_SECONDS"  #: how often the triggerer looks for it
DEFAULT_DAGS_START = "2026-11-01"
DEFAULT_EXTRACT_WAIT_HOURS = 12.0


@dataclass(frozen=True)
class Schedule:
    """How the ingest DAGs are scheduled (one place, read from the environment)."""

    start: str
    end: str | None
    catchup: bool
    extract_wait_hours: float
    extract_poll_seconds: float


def get_schedule() -> Schedule:
    return Schedule(
        start=os.environ.get(DAGS_START_ENV, DEFAULT_DAGS_START),
        end=os.environ.get(DAGS_END_ENV) or None,
        catchup=os.environ.get(DAGS_CATCHUP_ENV, "true").lower() not in ("0", "false", "no"),
        extract_wait_hours=float(os.environ.get(EXTRACT_WAIT_ENV, DEFAULT_EXTRACT_WAIT_HOURS)),
        extract_poll_seconds=float(os.environ.get(EXTRACT_POLL_ENV, 60)),
    )


@dataclass(frozen=True)
class Settings:
    """Resolved paths of one runtime home."""

    home: Path

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def lake(self) -> Path:
        return self.home / "lake"

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
    def reference(self) -> Path:
        """Optional operator overrides of the shipped reference data (regions, units)."""
        return self.home / "reference"

    def ensure(self) -> "Settings":
        """Create the runtime folders (idempotent)."""
        for p in (self.inbox, self.lake, self.quarantine, self.warehouse, self.keys, self.logs):
            p.mkdir(parents=True, exist_ok=True)
        os.chmod(self.keys, 0o700)
        return self


def get_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    """Settings for ``home``, else ``$IBET_HOME``, else ``./var``."""
    raw = home if home is not None else os.environ.get(HOME_ENV, "var")
    return Settings(home=Path(raw).expanduser().resolve())

"""Wait for an agency's extract of one date without holding a worker slot (deferrable)."""
from __future__ import annotations

import datetime as dt
import glob
from typing import Any

from airflow.providers.standard.triggers.file import FileTrigger
from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowSensorTimeout


class ExtractSensor(BaseSensorOperator):
    """Succeeds when every required file of the agency for the run's extract date is in the inbox.

    While a file is missing the task defers to the triggerer (a ``FileTrigger`` on the
    first missing file), so a late agency costs no worker. After ``timeout`` seconds it
    fails with a message naming the agency, date and the files it waited for.
    """

    template_fields = ()

    def __init__(self, *, agency: str, poll_seconds: float = 30.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.agency = agency
        self.poll_seconds = poll_seconds

    def _expected(self, context: Any) -> tuple[dt.date, list[str], list[str]]:
        from ibet.orchestration.tasks import expected_files, extract_date

        day = extract_date(context)
        required, optional = expected_files(self.agency, day)
        return day, [str(p) for p in required], [str(p) for p in optional]

    def poke(self, context: Any) -> bool:
        _, required, optional = self._expected(context)
        if required:
            return all(glob.glob(p) for p in required)
        return any(glob.glob(p) for p in optional)

    def execute(self, context: Any) -> None:
        day, required, optional = self._expected(context)
        if self.poke(context):
            self.log.info("extract of %s for %s is in the inbox", self.agency, day)
            return
        waiting = [p for p in required if not glob.glob(p)] or optional
        self.log.info("waiting for %s (deferring to the triggerer)", ", ".join(waiting))
        self.defer(trigger=FileTrigger(filepath=waiting[0], poke_interval=self.poll_seconds),
                   method_name="execute_complete", timeout=dt.timedelta(seconds=self.timeout))

    def execute_complete(self, context: Any, event: Any = None) -> None:
        # one file arrived: check the others (re-defers while any is still missing)
        self.execute(context)

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Any) -> Any:
        try:
            return super().resume_execution(next_method, next_kwargs, context)
        except AirflowSensorTimeout:
            day, required, optional = self._expected(context)
            raise AirflowSensorTimeout(
                f"no {self.agency} extract for {day} after {self.timeout / 3600:.1f} h: waited for "
                f"{', '.join(required or optional)}. Ask the agency to send it, then clear this task.") from None

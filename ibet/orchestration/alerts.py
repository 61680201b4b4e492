"""Alerts: a failed task, or an extract that is late, as one structured record.

Every alert is appended to ``IBET_HOME/logs/alerts.jsonl`` (one JSON object per line:
kind, agency, extract date, DAG, task, run, reason, time) and, when the Airflow
connection named by ``IBET_ALERT_CONN_ID`` (default ``ibet_alerts``) exists, sent
through it: an ``http``/``https`` connection receives the record as a JSON POST (a chat
or incident webhook), an ``smtp`` connection as an e-mail to ``extra.to``. Credentials
live only in the connection (or a secrets backend). A reason is an exception's first
line, cut short: the project's exceptions never carry record values.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import smtplib
import urllib.request
from email.message import EmailMessage
from typing import Any

from airflow.sdk import BaseNotifier

ALERTS_FILE = "alerts.jsonl"


def _settings() -> Any:
    from foundation.settings import get_settings

    return get_settings()


def _reason(exc: BaseException | str | None) -> str:
    text = str(exc) if exc is not None else ""
    first = text.strip().splitlines()[0] if text.strip() else (type(exc).__name__ if isinstance(exc, BaseException)
                                                                else "")
    return first[:300]


def record(alert: dict[str, Any]) -> dict[str, Any]:
    """Write ``alert`` to the alert log and the ibet log, then send it when a connection is configured."""
    from foundation.logs import get_logger

    settings = _settings()
    alert = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **alert}
    error: Exception | None = None
    try:
        alert["delivered_to"] = send(alert, settings.options.alert_conn_id)
    except Exception as exc:  # noqa: BLE001 - the alert is logged first, then the delivery error is raised
        alert["delivered_to"], alert["delivery_error"], error = None, _reason(exc), exc
    path = settings.logs / ALERTS_FILE
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(alert, sort_keys=True, default=str) + "\n")
    get_logger(settings).warning("alert %s: %s %s %s: %s", alert.get("kind"), alert.get("agency"),
                                 alert.get("extract_date"), alert.get("task_id") or "", alert.get("reason"))
    if error is not None:
        raise error
    return alert


def _connection(conn_id: str) -> Any | None:
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - not configured (AirflowNotFoundException) or no API: log only
        return None


def send(alert: dict[str, Any], conn_id: str) -> str | None:
    """Deliver ``alert`` through the Airflow connection ``conn_id``; None when there is none."""
    conn = _connection(conn_id)
    if conn is None:
        return None
    kind = (conn.conn_type or "").lower()
    extra = conn.extra_dejson or {}
    if kind in ("http", "https"):
        host = conn.host or ""
        if "://" not in host:
            scheme = conn.schema or ("https" if kind == "https" else "http")
            host = f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
        url = host.rstrip("/") + "/" + str(extra.get("endpoint", "")).lstrip("/")
        req = urllib.request.Request(url, data=json.dumps(alert, default=str).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **extra.get("headers", {})})
        with urllib.request.urlopen(req, timeout=float(extra.get("timeout", 10))) as resp:  # noqa: S310
            resp.read()
        return f"{conn_id} (webhook)"
    if kind in ("smtp", "email"):
        msg = EmailMessage()
        msg["Subject"] = f"[ibet] {alert.get('kind')}: {alert.get('agency')} {alert.get('extract_date') or ''}".strip()
        msg["From"] = extra.get("from", conn.login or "ibet@localhost")
        msg["To"] = extra["to"]
        msg.set_content(json.dumps(alert, indent=2, sort_keys=True, default=str))
        with smtplib.SMTP(conn.host or "localhost", conn.port or 25, timeout=float(extra.get("timeout", 10))) as smtp:
            if extra.get("starttls"):
                smtp.starttls()
            if conn.login:
                smtp.login(conn.login, conn.password or "")
            smtp.send_message(msg)
        return f"{conn_id} (smtp)"
    raise ValueError(f"connection {conn_id} has type {conn.conn_type!r}: alerts need http, https or smtp")


class FailureAlert(BaseNotifier):
    """``on_failure_callback`` of every ibet task: one alert naming agency, date, task and reason."""

    template_fields = ()

    def __init__(self, agency: str | None = None) -> None:
        super().__init__()
        self.agency = agency

    def notify(self, context: Any) -> None:
        ti = context.get("ti") or context.get("task_instance")
        start = context.get("data_interval_start")
        record({
            "kind": "task_failed", "agency": self.agency, "extract_date": start.date().isoformat() if start else None,
            "dag_id": getattr(ti, "dag_id", None), "task_id": getattr(ti, "task_id", None),
            "run_id": context.get("run_id"), "try_number": getattr(ti, "try_number", None),
            "reason": _reason(context.get("exception")),
        })


async def extract_late(agency: str, hours: float, context: dict[str, Any] | None = None) -> None:
    """Deadline-alert callback (runs in the triggerer): the day's extract has not landed in time."""
    run = (context or {}).get("dag_run") or {}
    start = run.get("data_interval_start") or run.get("logical_date")
    await asyncio.to_thread(record, {
        "kind": "extract_late", "agency": agency, "extract_date": str(start)[:10] if start else None,
        "dag_id": run.get("dag_id"), "task_id": None, "run_id": run.get("dag_run_id") or run.get("run_id"),
        "reason": f"no {agency} extract ingested {hours:g} h after the run was queued "
                  f"(the sensor keeps waiting; it fails when IBET_EXTRACT_WAIT_HOURS runs out)",
    })

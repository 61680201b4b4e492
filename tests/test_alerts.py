"""Alerts: every failure and a late extract become one structured record in IBET_HOME/logs/alerts.jsonl,
and, when the Airflow connection `ibet_alerts` exists, are delivered through it: a webhook (real HTTP
server on loopback) or e-mail (real SMTP server on loopback)."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from ibet.orchestration import alerts


def _alerts(settings) -> list[dict]:
    path = settings.logs / alerts.ALERTS_FILE
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_failure_alert_is_logged_without_a_connection(home, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_IBET_ALERTS", raising=False)
    ti = SimpleNamespace(dag_id="ibet_ingest_cbp", task_id="ingest", try_number=1)
    context = {"ti": ti, "run_id": "scheduled__2026-11-06T00:00:00+00:00", "exception": RuntimeError(
        "rejected: CBP_NB_20261105.csv: truncated: the file does not end with a complete record\nmore"),
               "data_interval_start": dt.datetime(2026, 11, 5, tzinfo=dt.timezone.utc)}
    alerts.FailureAlert("cbp").notify(context)
    (alert,) = _alerts(home)
    assert alert["kind"] == "task_failed" and alert["agency"] == "cbp" and alert["extract_date"] == "2026-11-05"
    assert alert["task_id"] == "ingest" and alert["dag_id"] == "ibet_ingest_cbp" and alert["try_number"] == 1
    assert alert["reason"] == "rejected: CBP_NB_20261105.csv: truncated: the file does not end with a complete record"
    assert alert["delivered_to"] is None  # no connection configured: logged only
    assert "alert task_failed: cbp 2026-11-05 ingest" in (home.logs / "ibet.log").read_text()


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append((self.path, self.headers["Content-Type"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_late_extract_alert_is_posted_to_the_webhook_connection(home, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_IBET_ALERTS", json.dumps({
            "conn_type": "http", "host": "127.0.0.1", "port": server.server_port, "extra": {"endpoint": "/hooks/ibet"}}))
        context = {"dag_run": {"dag_id": "ibet_ingest_rcmp", "dag_run_id": "scheduled__2026-11-08T00:00:00+00:00",
                               "data_interval_start": "2026-11-07T00:00:00Z"}, "deadline": {"id": "x"}}
        asyncio.run(alerts.extract_late("rcmp", 6.0, context=context))
    finally:
        server.shutdown()
    (path, ctype, body), = _Hook.received
    assert path == "/hooks/ibet" and ctype == "application/json"
    assert body["kind"] == "extract_late" and body["agency"] == "rcmp" and body["extract_date"] == "2026-11-07"
    assert "6 h after the run was queued" in body["reason"]
    (logged,) = _alerts(home)
    assert logged["delivered_to"] == "ibet_alerts (webhook)" and logged["run_id"] == context["dag_run"]["dag_run_id"]


def test_alert_is_mailed_through_an_smtp_connection(home, monkeypatch):
    from aiosmtpd import controller as aiosmtpd
    from aiosmtpd.handlers import Sink

    class Keep(Sink):
        messages: list = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            Keep.messages.append((envelope.rcpt_tos, envelope.content.decode()))
            return "250 OK"

    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = aiosmtpd.Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_IBET_ALERTS", json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": {"to": "oncall@example.org"}}))
        delivered = alerts.record({"kind": "task_failed", "agency": "uscg", "extract_date": "2026-11-03",
                                   "task_id": "ingest", "reason": "rejected: USCG_MIR_20261103.xml: malformed XML"})
    finally:
        controller.stop()
    assert delivered["delivered_to"] == "ibet_alerts (smtp)"
    (rcpt, content), = Keep.messages
    assert rcpt == ["oncall@example.org"]
    assert "Subject: [ibet] task_failed: uscg 2026-11-03" in content and "malformed XML" in content


def test_an_unusable_alert_connection_is_an_error_not_silence(home, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_IBET_ALERTS", json.dumps({"conn_type": "postgres", "host": "x"}))
    with pytest.raises(ValueError, match="alerts need http, https or smtp"):
        alerts.record({"kind": "task_failed", "agency": "ice", "reason": "x"})
    (logged,) = _alerts(home)  # written although delivery failed, with the reason
    assert logged["kind"] == "task_failed" and "alerts need http, https or smtp" in logged["delivery_error"]

"""Logging to ``IBET_HOME/logs/ibet.log``: counts, file names and safe reasons only.

Nothing in this project logs a record's values; this module only routes messages. The
file rotates (``IBET_LOG_MAX_BYTES``, ``IBET_LOG_BACKUPS``) and is written as text or as
one JSON object per line (``IBET_LOG_FORMAT=json`` or ``ibet --log-format json``), which
log shippers read without a parser of their own.
"""
from __future__ import annotations

import json
import logging
import logging.handlers
import os

from foundation.settings import Settings

LOGGER_NAME = "ibet"
_STD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and any ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
               "logger": record.name, "message": record.getMessage()}
        out.update({k: v for k, v in vars(record).items() if k not in _STD and not k.startswith("_")})
        return json.dumps(out, default=str, sort_keys=True)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def get_logger(settings: Settings) -> logging.Logger:
    """The ``ibet`` logger, writing to this home's rotating log in the configured format."""
    logger = logging.getLogger(LOGGER_NAME)
    target = str(settings.logs / "ibet.log")
    opts = settings.options
    for h in list(logger.handlers):
        if getattr(h, "baseFilename", None) and (h.baseFilename != target or getattr(h, "_ibet_format", None)
                                                 != opts.log_format):
            logger.removeHandler(h)
            h.close()
    if not any(getattr(h, "baseFilename", None) == target for h in logger.handlers):
        settings.logs.mkdir(mode=0o750, parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(target, maxBytes=opts.log_max_bytes,
                                                       backupCount=opts.log_backups, encoding="utf-8")
        handler.setFormatter(JsonFormatter() if opts.log_format == "json" else logging.Formatter(TEXT_FORMAT))
        handler._ibet_format = opts.log_format  # type: ignore[attr-defined]
        logger.addHandler(handler)
        try:
            os.chmod(target, 0o640)
        except OSError:  # pragma: no cover - a log shipper may own the file
            pass
    logger.setLevel(logging.INFO)
    return logger

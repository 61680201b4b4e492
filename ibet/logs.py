"""Logging to ``IBET_HOME/logs/ibet.log``: counts, file names and safe reasons only.

Nothing in this project logs a record's values; this module only routes messages.
"""
from __future__ import annotations

import logging

from ibet.settings import Settings

LOGGER_NAME = "ibet"


def get_logger(settings: Settings) -> logging.Logger:
    logger = logging.getLogger(LOGGER_NAME)
    target = str(settings.logs / "ibet.log")
    if not any(getattr(h, "baseFilename", None) == target for h in logger.handlers):
        settings.logs.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(target, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger

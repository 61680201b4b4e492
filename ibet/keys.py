"""The pseudonymization key: where it comes from, how it is created, never where it goes.

The key is the only secret of the warehouse. Without it nobody can link or test a guess
against a pseudonym; with a new key every pseudonym changes (key rotation = rebuild).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from ibet.settings import KEY_ENV, KEY_FILE_ENV, Settings

KEY_FILE_NAME = "pseudonym.key"
MIN_KEY_BYTES = 32


class MissingKeyError(RuntimeError):
    """Raised when no pseudonymization key is configured; the message says how to fix it."""


def key_path(settings: Settings) -> Path:
    """Default location of the key file under ``IBET_HOME/keys``."""
    return Path(os.environ.get(KEY_FILE_ENV) or settings.keys / KEY_FILE_NAME)


def _decode(text: str, origin: str) -> bytes:
    text = text.strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise MissingKeyError(f"{origin} must hold the key as hexadecimal") from None
    if len(key) < MIN_KEY_BYTES:
        raise MissingKeyError(f"{origin} holds {len(key)} bytes; at least {MIN_KEY_BYTES} are required")
    return key


def load_key(settings: Settings) -> bytes:
    """The key from ``IBET_PSEUDONYM_KEY`` (hex) or the key file; a clear error otherwise."""
    env = os.environ.get(KEY_ENV)
    if env:
        return _decode(env, KEY_ENV)
    path = key_path(settings)
    if path.is_file():
        return _decode(path.read_text(), f"key file {path}")
    raise MissingKeyError(
        f"no pseudonymization key: set {KEY_ENV} (hex, >= {MIN_KEY_BYTES} bytes) "
        f"or create {path} with `ibet keygen`"
    )


def create_key(settings: Settings, *, force: bool = False) -> Path:
    """Write a new random key file with mode 0600; refuses to overwrite unless ``force``."""
    path = key_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; rotating the key needs --force and a full rebuild")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
    os.chmod(path, 0o600)
    return path

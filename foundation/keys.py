"""The pseudonymization key: where it comes from, how it is created, never where it goes.

The key is the only secret of the warehouse. Without it nobody can link or test a guess
against a pseudonym; with a new key every pseudonym changes (key rotation = rebuild).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from foundation.settings import KEY_ENV, KEY_FILE_ENV, Settings

KEY_FILE_NAME = "pseudonym.key"
MIN_KEY_BYTES = 32


class MissingKeyError(RuntimeError):
    """Raised when no pseudonymization key is configured; the message says how to fix it."""


def key_path(settings: Settings) -> Path:
    """Default location of the key file under ``IBET_HOME/keys``."""
    return Path(os.environ.get(KEY_FILE_ENV) or settings.keys / KEY_FILE_NAME)


#: A key with fewer distinct byte values than this is not random (all zeros, a repeated pattern).
MIN_DISTINCT_BYTES = 16


def _decode(text: str, origin: str) -> bytes:
    text = text.strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise MissingKeyError(f"{origin} must hold the key as hexadecimal") from None
    if len(key) < MIN_KEY_BYTES:
        raise MissingKeyError(f"{origin} holds {len(key)} bytes; at least {MIN_KEY_BYTES} are required")
    if len(set(key)) < MIN_DISTINCT_BYTES:
        raise MissingKeyError(f"{origin} is not a random key (only {len(set(key))} distinct byte values): "
                              "create one with `ibet keygen --force`")
    return key


def fingerprint(key: bytes) -> str:
    """Which key made a pseudonym, without revealing the key: a keyed hash of a fixed label, 16 hex."""
    return hmac.new(key, b"ibet key fingerprint v1", hashlib.sha256).hexdigest()[:16]


def _check_mode(path: Path) -> None:
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise MissingKeyError(f"key file {path} is readable or writable by others than its owner (mode {mode:04o}): "
                              f"`chmod 600 {path}`")


def load_key(settings: Settings) -> bytes:
    """The key from ``IBET_PSEUDONYM_KEY`` (hex) or the key file; a clear error otherwise."""
    env = os.environ.get(KEY_ENV)
    if env:
        return _decode(env, KEY_ENV)
    path = key_path(settings)
    if path.is_file():
        _check_mode(path)
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

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


def _write_key_file(path: Path, mode: int) -> None:
    """A new random key at ``path``, atomically (a private temporary file renamed into place)."""
    from foundation.lake import atomic_write

    atomic_write(path, lambda tmp: Path(tmp).write_text(secrets.token_hex(MIN_KEY_BYTES) + "\n"), mode)


def create_key(settings: Settings, *, force: bool = False) -> Path:
    """Write a new random key file with mode 0600; refuses to overwrite unless ``force``. Audited (key ids only)."""
    from foundation import audit

    path = key_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    replaced = None
    if path.exists():
        if not force:
            raise FileExistsError(f"{path} exists; rotating the key needs --force and a full rebuild "
                                  "(or `ibet keygen --rotate`)")
        try:
            replaced = fingerprint(_decode(path.read_text(), "the replaced key"))
        except MissingKeyError:
            replaced = "unreadable"
    _write_key_file(path, 0o600)
    audit.record(settings, "key_created", key_id=fingerprint(_decode(path.read_text(), str(path))),
                 replaced_key_id=replaced)
    return path


class KeyRotationError(RuntimeError):
    """The key cannot be rotated here (it comes from the environment, or there is none)."""


def retired_dir(settings: Settings) -> Path:
    return settings.keys / "retired"


def rotate_key(settings: Settings) -> tuple[str, str, Path]:
    """Retire the current key file and make a new one: (old key id, new key id, the sealed old key).

    The old key is kept, sealed: mode 0400 under ``keys/retired/<key id>.key``, readable only by
    the account that ingests (the owner of the home's keys). Re-pseudonymizing needs the raw
    files, so only what the inbox still holds can be re-keyed (``ibet keygen --rotate`` re-ingests
    it); the retired key serves to link older pseudonyms, and nothing else.
    """
    from foundation import audit

    if os.environ.get(KEY_ENV):
        raise KeyRotationError(f"the key comes from {KEY_ENV}: rotate it in the secret store that sets it, "
                               "then re-ingest the inbox and run `ibet build --full`")
    path = key_path(settings)
    if not path.is_file():
        raise KeyRotationError(f"no key file at {path} to rotate: create one with `ibet keygen`")
    old = load_key(settings)
    old_id = fingerprint(old)
    sealed_dir = retired_dir(settings)
    sealed_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(sealed_dir, 0o700)
    sealed = sealed_dir / f"{old_id}.key"
    if not sealed.exists():
        fd = os.open(sealed, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, "w") as fh:
            fh.write(old.hex() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    _write_key_file(path, 0o600)
    new_id = fingerprint(load_key(settings))
    audit.record(settings, "key_rotated", key_id=new_id, retired_key_id=old_id)
    return old_id, new_id, sealed


def retired_key_ids(settings: Settings) -> list[str]:
    d = retired_dir(settings)
    return sorted(p.stem for p in d.glob("*.key")) if d.is_dir() else []

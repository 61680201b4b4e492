"""What can go wrong when pulling a file, sorted by what the caller should do about it."""
from __future__ import annotations


class PullError(RuntimeError):
    """Base class. Messages name the agency, the file and the source, never a credential."""


class NotYetPublished(PullError):
    """The file is not on the server (yet): poll again until the deadline."""


class TransientPullError(PullError):
    """The network or the server failed, or a transfer was cut short: retry with back-off."""


class AuthenticationFailed(PullError):
    """The server refused the credentials (or the host key did not match): retrying cannot help."""

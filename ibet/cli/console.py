"""Where ``ibet`` writes: one console for results, one for messages, and the -q/-v state.

Its own module so that the table renderer and the shared helpers both read it without
importing each other."""
from __future__ import annotations

import sys

from rich.console import Console

console = Console(width=None if sys.stdout.isatty() else 160)  # wide tables in logs and pipes
err = Console(stderr=True, soft_wrap=True)


class State:
    """The global options of the running command (``-q``, ``-v``)."""

    quiet: bool = False
    verbose: int = 0


state = State()

"""Program finance file: see contracts.program."""
from contracts.program import FINANCE as CONTRACT

__all__ = ["CONTRACT"]

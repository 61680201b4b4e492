"""Program outreach file: see contracts.program."""
from contracts.program import OUTREACH as CONTRACT

__all__ = ["CONTRACT"]

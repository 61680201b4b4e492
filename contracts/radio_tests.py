"""Program radio_tests file: see contracts.program."""
from contracts.program import RADIO_TESTS as CONTRACT

__all__ = ["CONTRACT"]

"""Program radio_tests file: see transforms.program."""
from contracts.radio_tests import CONTRACT
from transforms.program import radio_tests as canonical
from transforms.program import reader

read = reader(list(CONTRACT.levels["rows"].columns))

__all__ = ["read", "canonical"]

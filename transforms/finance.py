"""Program finance file: see transforms.program."""
from contracts.finance import CONTRACT
from transforms.program import finance as canonical
from transforms.program import reader

read = reader(list(CONTRACT.levels["rows"].columns))

__all__ = ["read", "canonical"]

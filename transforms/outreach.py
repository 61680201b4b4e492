"""Program outreach file: see transforms.program."""
from contracts.outreach import CONTRACT
from transforms.program import outreach as canonical
from transforms.program import reader

read = reader(list(CONTRACT.levels["rows"].columns))

__all__ = ["read", "canonical"]

"""pandera's polars API, imported without pandera's pandas API.

``import pandera`` imports pandas and pandera's whole pandas API whenever pandas is
installed, and it is here (Great Expectations needs it): 0.3–0.4 s of every ``ibet
ingest`` process and every Airflow task that validates a file, for an API the contracts
never use (they validate polars frames). pandera supports running without pandas: its
``__init__`` falls back to its core when ``import pandas`` raises "No module named
'pandas'". This module lets it take that path by hiding pandas during that one import (and
pandera's first look for pandas types, which it caches), when nothing has loaded pandas yet.
pandas itself imports normally afterwards (the quality gate uses it, and pyarrow's
conversions may load it in an ingest); pandera's pandas API (``pandera.pandas``) is then not
available in that process, and nothing here uses it (``tests/test_contracts.py`` holds it).
"""
from __future__ import annotations

import importlib.abc
import sys
from types import ModuleType


class _HidePandas(importlib.abc.MetaPathFinder):
    """A finder that answers for pandas as if it were not installed."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _load() -> ModuleType:
    if "pandera" in sys.modules or "pandas" in sys.modules:
        import pandera.polars

        return pandera.polars
    hide = _HidePandas()
    sys.meta_path.insert(0, hide)
    try:
        import pandera.polars

        # pandera looks for its pandas types once, on the first check it runs, and remembers
        # the answer: asked now, it learns there is none, and validation never imports pandas
        try:
            from pandera.backends.register_checks import _load_get_backend_types_from_mro
        except ImportError:  # another pandera: only the speed-up is lost
            pass
        else:
            _load_get_backend_types_from_mro()
    finally:
        sys.meta_path.remove(hide)
    return pandera.polars


def pyarrow_without_pandas() -> None:
    """Let pyarrow's conversions of Python values (``pa.scalar``, ``pa.array`` of numpy) stop looking for
    pandas, in a process that will not use it: the first such call imports pandas only to ask whether a
    value is a pandas object (0.3 s of every ``ibet ingest``). pyarrow asks once and remembers "not
    installed" for those questions; ``to_pandas`` still imports pandas when called. Call it only in a
    process that hands pyarrow no pandas objects (``ibet ingest``): there, a pandas Series given to
    ``pa.array`` would no longer be recognized as one. A no-op once pandas is loaded."""
    if "pandas" in sys.modules:
        return
    import pyarrow

    hide = _HidePandas()
    sys.meta_path.insert(0, hide)
    try:
        pyarrow.scalar(0)
    finally:
        sys.meta_path.remove(hide)


pa = _load()

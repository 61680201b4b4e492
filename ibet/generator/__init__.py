"""Synthetic partner extracts written exactly to the ICD, with a ground-truth manifest.

``generate`` writes ``<out>/<agency>/<file>`` for every agency and day plus the
``program/`` files, and ``<out>/_ground_truth.json``: for each file, how many records
each level holds, which were corrupted (and how), how many the contracts must
quarantine, and which synthetic person fills each valid subject slot (for linkage tests).
The manifest holds raw synthetic identifiers: it is the partners' side of the fence and
is never read by the pipeline.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from ibet.generator import canada, program, us
from ibet.generator.core import Day
from ibet.generator.people import person_pool
from foundation.vocabulary import fiscal_year

GROUND_TRUTH = "_ground_truth.json"
WRITERS: dict[str, Callable] = {"rcmp": canada.rcmp, "cbsa": canada.cbsa, "cbp": us.cbp, "ice": us.ice,
                                "uscg": us.uscg}


def canadian_fiscal_year(day: dt.date) -> str:
    return fiscal_year(day, "CAN")


def generate(out: Path, start: dt.date, days: int, rows_per_day: int, seed: int, dirty_rate: float,
             agencies_: list[str] | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Write the extracts and return the ground truth (also written to ``out/_ground_truth.json``).

    The files stand for raw partner data (names, birth dates): they are written need-to-know, folders
    0750 and files 0640 whatever the umask, like everything under a home (``ibet doctor`` checks it)."""
    if not 0 <= dirty_rate <= 0.5:
        raise ValueError("dirty rate must be between 0 and 0.5")
    previous = os.umask(0o027)
    try:
        return _generate(Path(out), start, days, rows_per_day, seed, dirty_rate, agencies_, progress)
    finally:
        os.umask(previous)


def _generate(out: Path, start: dt.date, days: int, rows_per_day: int, seed: int, dirty_rate: float,
              agencies_: list[str] | None, progress: Callable[[str], None] | None) -> dict:
    out = Path(out)
    codes = agencies_ or list(WRITERS)
    pool = person_pool(np.random.default_rng([seed, 0]), max(60, rows_per_day * days // 3))
    files: list[dict] = []
    for d in range(days):
        date = start + dt.timedelta(days=d)
        for i, code in enumerate(codes):
            (out / code).mkdir(parents=True, exist_ok=True)
            day = Day(date, d, rows_per_day, np.random.default_rng([seed, i + 1, d]), pool, dirty_rate)
            truth = WRITERS[code](day, out / code)
            files.append(truth)
            # the file arrives the morning after its extract date (02:00-09:00 UTC, each agency its own habits)
            arrives = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(2), dt.timezone.utc) + dt.timedelta(
                minutes=int(np.random.default_rng([seed, i + 1, d, 7]).integers(0, 420)))
            os.utime(out / code / truth["file"], (arrives.timestamp(), arrives.timestamp()))
            truth["arrives_at"] = arrives.isoformat()
            if progress:
                progress(f"{code}/{truth['file']}")
        (out / "program").mkdir(parents=True, exist_ok=True)
        files += program.program_day(Day(date, d, 0, np.random.default_rng([seed, 99, d]), pool, 0), out / "program")
    fys = [canadian_fiscal_year(start + dt.timedelta(days=d)) for d in range(days)]
    files += program.finance(out / "program", fys, np.random.default_rng([seed, 100]))
    persons = pool.select("person_id", "surname", "given", "middle", "dob", "passport_no", "a_number", "plate", "hin")
    truth = {"seed": seed, "start": start.isoformat(), "days": days, "rows_per_day": rows_per_day,
             "dirty_rate": dirty_rate, "files": files, "persons": persons.to_dicts()}
    (out / GROUND_TRUTH).write_text(json.dumps(truth, default=str))
    return truth

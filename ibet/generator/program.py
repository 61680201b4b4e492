"""The program office's files: finance per fiscal year, outreach events and radio tests per day."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from ibet.generator.core import Day
from foundation.vocabulary import OUTREACH_PROGRAMS


def program_day(day: Day, out: Path) -> list[dict]:
    """Outreach events and radio tests of one day (a handful of rows each)."""
    from foundation.reference import region_codes

    codes = region_codes()
    k = int(day.rng.integers(1, 5))
    o = pl.DataFrame({
        "event_id": [f"OUT-{day.date:%Y%m%d}-{i:03d}" for i in range(k)],
        "event_date": [day.date.isoformat()] * k, "region_code": np.array(codes)[day.rng.integers(0, 15, k)],
        "program": np.array(OUTREACH_PROGRAMS)[day.rng.integers(0, len(OUTREACH_PROGRAMS), k)],
        "attendees": day.rng.integers(5, 200, k).astype(str), "tips_received": day.rng.integers(0, 12, k).astype(str),
    })
    on, rn = f"outreach_{day.date:%Y%m%d}.csv", f"radio_tests_{day.date:%Y%m%d}.csv"
    o.write_csv(out / on)
    r = int(day.rng.integers(1, 4))
    combos = np.array(["rcmp;cbp", "rcmp;uscg", "cbsa;cbp;rcmp", "rcmp;cbsa", "cbp;ice;rcmp;uscg"])
    pl.DataFrame({
        "test_id": [f"RT-{day.date:%Y%m%d}-{i:02d}" for i in range(r)], "test_date": [day.date.isoformat()] * r,
        "region_code": np.array(codes)[day.rng.integers(0, 15, r)], "agencies": combos[day.rng.integers(0, 5, r)],
        "success": np.where(day.rng.random(r) < 0.85, "true", "false"),
    }).write_csv(out / rn)
    return [{"file": on, "agency": "program", "rows": {"rows": k}, "expected_quarantined": {"rows": 0}},
            {"file": rn, "agency": "program", "rows": {"rows": r}, "expected_quarantined": {"rows": 0}}]


#: FY2006-07 as published by the RCMP (DOMAIN.md, seed 000); partners' lines are synthetic.
FINANCE_2006_07 = [
    # the federal program's spending as the RCMP (lead department) published it, CBSA's included
    ("2006-07", "rcmp", "25000000", "23868339", "CAD",
     "please note that, as in past years, $4,367,122 was allocated to INSET at the start of fiscal year"),
    ("2006-07", "cbp", "9800000", "10150000", "USD", ""),
    ("2006-07", "ice", "4200000", "3990000", "USD", ""),
    ("2006-07", "uscg", "5100000", "5020000", "USD", ""),
]


def finance(out: Path, fiscal_years: list[str], rng: np.random.Generator) -> list[dict]:
    files = []
    for fy in sorted(set(fiscal_years) | {"2006-07"}):
        if fy == "2006-07":
            rows = FINANCE_2006_07
        else:
            rows = []
            for ag, cur in (("rcmp", "CAD"), ("cbsa", "CAD"), ("cbp", "USD"), ("ice", "USD"), ("uscg", "USD")):
                planned = int(rng.integers(4, 30)) * 1_000_000
                rows.append((fy, ag, str(planned), str(int(planned * rng.uniform(0.85, 1.08))), cur, ""))
        name = f"finance_{fy}.csv"
        pl.DataFrame(rows, schema=["fiscal_year", "agency", "planned_spending", "actual_spending", "currency", "note"],
                     orient="row").write_csv(out / name)
        files.append({"file": name, "agency": "program", "rows": {"rows": len(rows)},
                      "expected_quarantined": {"rows": 0}})
    return files

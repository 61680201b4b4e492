"""Shared machinery of the synthetic extracts: places, times, subjects and injected defects.

Every agency file is built as a polars frame of *true* values first (vectorized), then
defects are injected by masks, and the ground truth records what was injected and which
person each subject slot is, so the tests can check quarantine counts and linkage.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from foundation.reference import regions

#: region -> IANA zone of the Canadian side and the US abbreviation pair (standard, daylight)
REGION_ZONES = {
    "PAC": "America/Vancouver", "OKA": "America/Vancouver", "RMT": "America/Edmonton", "PRA": "America/Regina",
    "RRV": "America/Winnipeg", "SUP": "America/Toronto", "HUR": "America/Toronto", "DWI": "America/Toronto",
    "NIA": "America/Toronto", "KTI": "America/Toronto", "CMA": "America/Toronto", "CHA": "America/Toronto",
    "EST": "America/Toronto", "WNB": "America/Moncton", "ATL": "America/Moncton",
}
US_ZONES = {
    "PAC": "America/Los_Angeles", "OKA": "America/Los_Angeles", "RMT": "America/Denver", "PRA": "America/Denver",
    "RRV": "America/Chicago", "SUP": "America/Chicago", "HUR": "America/Detroit", "DWI": "America/Detroit",
    "NIA": "America/New_York", "KTI": "America/New_York", "CMA": "America/New_York", "CHA": "America/New_York",
    "EST": "America/New_York", "WNB": "America/New_York", "ATL": "America/New_York",
}
DETACHMENTS = {"PAC": "Surrey", "OKA": "Osoyoos", "RMT": "Coutts", "PRA": "Estevan", "RRV": "Emerson",
               "SUP": "Thunder Bay", "HUR": "Sarnia", "DWI": "Windsor", "NIA": "Niagara Falls", "KTI": "Kingston",
               "CMA": "Cornwall", "CHA": "Lacolle", "EST": "Stanstead", "WNB": "Woodstock", "ATL": "St. Stephen"}
CBSA_OFFICES = {"PAC": "0813", "RMT": "0701", "RRV": "0502", "NIA": "0440", "DWI": "0453", "WNB": "0211",
                "CMA": "0384", "CHA": "0427"}
CBP_SECTORS = {"PAC": ("BLW", "Blaine"), "OKA": ("SPW", "Oroville"), "RMT": ("HVM", "Sweetgrass"),
               "PRA": ("HVM", "Havre"), "RRV": ("GFN", "Pembina"), "SUP": ("GFN", "Warroad"),
               "HUR": ("DTM", "Marysville"), "DWI": ("DTM", "Detroit"), "NIA": ("BUN", "Niagara Falls"),
               "KTI": ("BUN", "Wellesley Island"), "CMA": ("SWB", "Massena"), "CHA": ("SWB", "Champlain"),
               "EST": ("SWB", "Beecher Falls"), "WNB": ("HLT", "Houlton"), "ATL": ("HLT", "Calais")}
USCG_DISTRICTS = {"PAC": "D13", "SUP": "D9", "HUR": "D9", "DWI": "D9", "NIA": "D9", "KTI": "D9", "CMA": "D9",
                  "ATL": "D1"}
DEFECT_KINDS = ("missing_required", "bad_date", "bad_coords", "unknown_code", "duplicate_id")
#: Defects in personal columns: an identifier (a real date of birth in the wrong format, an A-number
#: keyed in lower case) and a quasi-identifier (a nationality that is no ISO code). The values are
#: raw personal data of the file: the ground truth lists them ("planted") so that every leak scan
#: looks for them in every output.
PERSONAL_DEFECT_KINDS = ("bad_identifier", "bad_quasi")


@dataclass
class Day:
    """Everything an agency writer needs for one extract date."""

    date: dt.date
    index: int  #: day number from the start
    n: int
    rng: np.random.Generator
    pool: pl.DataFrame
    dirty_rate: float
    truth: dict = field(default_factory=dict)


def places(rng: np.random.Generator, n: int, allowed: list[str] | None = None) -> pl.DataFrame:
    """Region, latitude and longitude for ``n`` events, concentrated near the border."""
    reg = regions()
    if allowed:
        reg = reg.filter(pl.col("region_code").is_in(allowed))
    k = rng.integers(0, reg.height, n)
    pick = reg[k]
    lat_lo, lat_hi = pick["min_lat"].to_numpy(), pick["max_lat"].to_numpy()
    lon_lo, lon_hi = pick["min_lon"].to_numpy(), pick["max_lon"].to_numpy()
    # Near the border: lean towards the box's middle band in latitude.
    mid = (lat_lo + lat_hi) / 2
    lat = np.clip(rng.normal(mid, (lat_hi - lat_lo) / 8), lat_lo + 1e-4, lat_hi - 1e-4)
    lon = rng.uniform(lon_lo + 1e-4, lon_hi - 1e-4)
    return pl.DataFrame({"region": pick["region_code"], "lat": lat, "lon": lon})


def event_times(day: Day) -> pl.Series:
    """UTC event times: reported on ``day.date``, happened 0-48 hours before the report."""
    start = np.datetime64(day.date.isoformat() + "T00:00:00", "s")
    reported = start + day.rng.integers(0, 86400, day.n).astype("timedelta64[s]")
    lag = np.minimum(day.rng.exponential(6 * 3600, day.n), 48 * 3600).astype("int64").astype("timedelta64[s]")
    return pl.Series("occurred_utc", (reported - lag).astype("datetime64[ms]")).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def local_times(utc: pl.Series, zones: pl.Series, fmt: str, with_abbrev: bool = False) -> pl.DataFrame:
    """Wall time of UTC instants in per-row IANA zones, with the UTC offset (``+hh:mm``).

    DuckDB's ICU time-zone rules are used (the same the transforms use): they are
    current (e.g. British Columbia on permanent UTC-7 from November 2026) where the
    system's and polars' bundled copies may lag. ``with_abbrev`` adds US abbreviations
    (PST/PDT...), which ICU does not print; those come from polars, one pass per zone.
    """
    from foundation import duck

    frame = pl.DataFrame({"utc": utc, "zone": zones})
    con = duck.connect()
    con.execute("SET TimeZone = 'UTC'")
    out = con.sql(f"""
        SELECT strftime(timezone(zone, utc), '{fmt}') AS local,
               datediff('minute', CAST(utc AS TIMESTAMP), timezone(zone, utc)) AS m
        FROM frame""").pl()
    con.close()
    out = out.with_columns(pl.format("{}{}:{}", pl.when(pl.col("m") < 0).then(pl.lit("-")).otherwise(pl.lit("+")),
                                     (pl.col("m").abs() // 60).cast(pl.Utf8).str.zfill(2),
                                     (pl.col("m").abs() % 60).cast(pl.Utf8).str.zfill(2)).alias("offset")).drop("m")
    if with_abbrev:
        df = frame.with_row_index("i")
        parts = []
        for zone in df["zone"].unique().to_list():
            sub = df.filter(pl.col("zone") == zone)
            parts.append(pl.DataFrame([sub["i"], sub["utc"].dt.convert_time_zone(zone).dt.strftime("%Z")
                                       .alias("abbrev")]))
        out = out.with_columns(pl.concat(parts).sort("i")["abbrev"])
    return out


def subject_draw(day: Day, share: float) -> pl.Series:
    """Person ids for subject slots (null where there is none); a few people recur often."""
    has = day.rng.random(day.n) < share
    u = day.rng.random(day.n)
    idx = np.floor(day.pool.height * u ** 2.2).astype(np.int64)
    return pl.Series("person_id", np.where(has, idx, -1)).replace(-1, None)


def defects(day: Day, kinds_cycle: tuple[str, ...] = DEFECT_KINDS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows to corrupt, their kinds (cycling through ``kinds_cycle``), and the partners whose id each
    duplicate copies."""
    k = int(round(day.n * day.dirty_rate))
    if k == 0 or day.n < 3:
        return np.array([], dtype=np.int64), np.array([], dtype=object), np.array([], dtype=np.int64)
    k = min(k, day.n // 2)
    perm = day.rng.permutation(day.n)
    rows = np.sort(perm[:k])
    kinds = np.array([kinds_cycle[i % len(kinds_cycle)] for i in range(k)], dtype=object)
    n_dup = int((kinds == "duplicate_id").sum())
    partners = np.sort(perm[k:k + n_dup])
    return rows, kinds, partners


def corrupt(df: pl.DataFrame, rows: np.ndarray, kinds: np.ndarray, partners: np.ndarray,
            edits: dict[str, tuple[str, object]], id_col: str, planted: list[str] | None = None) -> pl.DataFrame:
    """Apply ``edits[kind] = (column, bad value)`` on the chosen rows; duplicates copy a partner's id.

    A bad value may be a Series (one value per row: a person's own data, badly formatted); the
    values written for personal defect kinds are appended to ``planted``.
    """
    pos = pl.int_range(pl.len())
    for kind, (column, bad) in edits.items():
        sel = rows[kinds == kind]
        if len(sel):
            value = bad if isinstance(bad, pl.Series) else pl.lit(bad, df.schema[column])
            df = df.with_columns(pl.when(pos.is_in(sel.tolist())).then(value)
                                 .otherwise(pl.col(column)).alias(column))
            if planted is not None and kind in PERSONAL_DEFECT_KINDS:
                planted += [str(v) for v in df[column].gather(sel.tolist()).to_list()]
    dups = rows[kinds == "duplicate_id"]
    if len(dups):
        ids = df[id_col]
        df = df.with_columns(ids.scatter(dups.tolist(), ids.gather(partners.tolist())).alias(id_col))
    return df


def truth_for(day: Day, rows: np.ndarray, kinds: np.ndarray, partners: np.ndarray, file: str, agency: str,
              source_ids: pl.Series) -> dict:
    """The ground truth of one file's top level: which records are bad and why."""
    bad = sorted(set(rows.tolist()) | set(partners.tolist()))
    return {
        "file": file, "agency": agency,
        "defects": [{"record": int(r) + 1, "kind": str(k)} for r, k in zip(rows, kinds)]
        + [{"record": int(p) + 1, "kind": "duplicate_id_partner"} for p in partners],
        "bad_positions": bad,
    }


def personal_defects(day: Day) -> tuple[pl.Series, pl.Series]:
    """Per row, a bad identifier (a pool person's date of birth as DD.MM.YYYY) and a bad quasi-identifier
    (a nationality that is no alpha-3 code), for the personal defect kinds."""
    who = day.pool["dob"].gather(np.arange(day.n) % day.pool.height)
    dob = who.dt.strftime("%d.%m.%Y").alias("bad_dob")
    letters = np.array(list("abcdefghijkmnpqrstuvwxyz"))[day.rng.integers(0, 24, (day.n, 6))]
    token = pl.Series("bad_nat", ["Qx" + "".join(r) for r in letters])
    return dob, token


def xml_escape(expr: pl.Expr) -> pl.Expr:
    return (expr.str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True)
            .str.replace_all(">", "&gt;", literal=True).str.replace_all('"', "&quot;", literal=True)
            .str.replace_all("'", "&apos;", literal=True))

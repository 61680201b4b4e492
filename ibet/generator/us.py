"""US partners' files, each exactly as the ICD describes it: CBP pipe CSV, ICE Parquet, USCG XML."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from contracts import cbp as cbp_contract
from contracts import uscg as uscg_contract
from ibet.generator.common import WITH_PERSONAL, _str, _choice, _caveats, _people, _narrative, _appearances
from ibet.generator.core import (CBP_SECTORS, PERSONAL_DEFECT_KINDS, US_ZONES, USCG_DISTRICTS, Day, corrupt, defects,
                                 event_times, local_times, personal_defects, places, truth_for, xml_escape)
from foundation.vocabulary import COMMODITIES as COMMODITIES_MEASURED
from foundation.vocabulary import REL_USA


def cbp(day: Day, out: Path) -> dict:
    name = f"CBP_NB_{day.date:%Y%m%d}.csv"
    pl_ = places(day.rng, day.n)
    utc = event_times(day)
    lt = local_times(utc, pl_["region"].replace_strict(US_ZONES), "%m/%d/%Y %I:%M %p", with_abbrev=True)
    etype = _choice(day, ["APPREHENSION", "SEIZURE", "BOTH", "GOTAWAY"], [0.4, 0.25, 0.15, 0.2])
    ppl = _people(day, 0.8)
    gotaway = etype == "GOTAWAY"
    drug = np.where((etype != "APPREHENSION") & ~gotaway & (day.rng.random(day.n) < 0.7),
                    _choice(day, list(cbp_contract.DRUGS)), None)

    def dms(v: np.ndarray, pos: str, neg: str) -> list[str]:
        a = np.abs(v)
        d = np.floor(a).astype(int)
        m = np.floor((a - d) * 60).astype(int)
        s = np.floor(((a - d) * 60 - m) * 60).astype(int)
        h = np.where(v >= 0, pos, neg)
        return [f"{x}°{y}'{z}\"{w}" for x, y, z, w in zip(d, m, s, h)]

    sector = pl_["region"].replace_strict({k: v[0] for k, v in CBP_SECTORS.items()})
    station = pl_["region"].replace_strict({k: v[1] for k, v in CBP_SECTORS.items()})
    no_subject = pl.Series(gotaway) | ppl["person_id"].is_null()
    seq = day.index * day.n + np.arange(day.n)
    df = pl.DataFrame({
        "event_no": [f"NB{day.date:%y}{s:08d}" for s in seq], "event_date": lt["local"], "tz": lt["abbrev"],
        "sector": sector, "station": station, "lat_dms": dms(pl_["lat"].to_numpy(), "N", "S"),
        "lon_dms": dms(pl_["lon"].to_numpy(), "E", "W"), "event_type": etype,
    }).with_columns(
        pl.when(~no_subject).then(pl.format("{}, {}", ppl["surname_folded"].str.to_uppercase(),
                                            pl.concat_str([ppl["given_folded"], ppl["middle"]], separator=" ")
                                            .str.strip_chars().str.to_uppercase())).alias("subject_name"),
        pl.when(~no_subject).then(ppl["dob"].dt.strftime("%m/%d/%Y")).alias("dob"),
        pl.when(~no_subject & pl.Series(day.rng.random(day.n) < 0.3)).then(ppl["a_number"]).alias("a_number"),
        pl.when(~no_subject & pl.Series(day.rng.random(day.n) < 0.6)).then(ppl["passport_no"]).alias("passport_no"),
    ).with_columns(
        pl.when(pl.col("passport_no").is_not_null()).then(ppl["nationality"]).alias("passport_country"),
        pl.when(~no_subject).then(ppl["nationality"]).alias("nationality"),
        _str("persons_apprehended", np.where(gotaway | (etype == "SEIZURE"), 0,
                                                  1 + day.rng.poisson(0.8, day.n)).astype(str)),
        _str("drug_type", drug),
        _str("drug_lbs", np.where(drug != None, np.round(day.rng.gamma(2, 20, day.n), 2).astype(str), None),  # noqa: E711
                  dtype=pl.Utf8),
        _str("currency_usd", np.where(~gotaway & (day.rng.random(day.n) < 0.15),
                                           np.round(day.rng.gamma(2, 5000, day.n), 2).astype(str), None)),
        _str("firearms_count", np.where(~gotaway & (day.rng.random(day.n) < 0.08),
                                             day.rng.integers(1, 6, day.n).astype(str), None)),
        _narrative(pl.coalesce(ppl["surname"], pl.lit("group")), station).alias("remarks"),
        _str("release", _caveats(day, REL_USA)),
    )
    rows, kinds, partners = defects(day, WITH_PERSONAL)
    _, bad_nat = personal_defects(day)
    # an A-number keyed in lower case with a dash: the person's real digits, not the A + 9 digits rule
    bad_anumber = day.pool["a_number"].gather(np.arange(day.n) % day.pool.height).str.to_lowercase() \
        .str.replace("a", "a-", literal=True)
    planted: list[str] = []
    df = corrupt(df, rows, kinds, partners, {
        "missing_required": ("sector", None), "bad_date": ("event_date", "13/45/2026 10:00 XM"),
        "bad_coords": ("lat_dms", "95°10'00\"N"), "unknown_code": ("event_type", "CAPTURE"),
        "bad_identifier": ("a_number", bad_anumber), "bad_quasi": ("nationality", bad_nat),
    }, "event_no", planted)
    df.write_csv(out / name, separator="|", quote_style="necessary")
    t = truth_for(day, rows, kinds, partners, name, "cbp", df["event_no"])
    pid = pl.select(pl.when(~no_subject).then(ppl["person_id"])).to_series()
    t.update(rows={"events": day.n}, expected_quarantined={"events": len(t["bad_positions"])}, planted=planted,
             subjects=_appearances(df["event_no"], pid, t["bad_positions"]))
    return t


def ice(day: Day, out: Path) -> dict:
    name = f"ice_hsi_cases_{day.date:%Y%m%d}.parquet"
    utc = event_times(day)
    pl_ = places(day.rng, day.n)
    case_ids = day.rng.choice(max(day.n * 3, 10), day.n, replace=False)
    category = _choice(day, ["NARCOTICS", "WEAPONS", "HUMAN_SMUGGLING", "FINANCIAL", "NATSEC"])
    status = _choice(day, ["OPEN", "CLOSED_ARREST", "CLOSED_NO_ACTION"], [0.7, 0.2, 0.1])
    n_sub = day.rng.integers(0, 4, day.n)
    ev = np.repeat(np.arange(day.n), n_sub)
    slot = np.concatenate([np.arange(k) for k in n_sub]) if len(ev) else np.array([], dtype=int)
    pid = np.floor(day.pool.height * day.rng.random(len(ev)) ** 2.2).astype(np.int64)
    subs = pl.DataFrame({"ev": ev, "slot": slot, "person_id": pid}).join(day.pool, on="person_id", how="left",
                                                                        maintain_order="left")
    subs = subs.with_columns(pl.struct(
        pl.format("{}, {}", pl.col("surname"), pl.col("given")).alias("name"), pl.col("dob"),
        pl.when(pl.Series(day.rng.random(len(ev)) < 0.6)).then(
            pl.col("passport_no").str.slice(0, 2) + "-" + pl.col("passport_no").str.slice(2)).alias("passport_no"),
        pl.col("nationality")).alias("s"))
    df = pl.DataFrame({
        "case_number": [f"HSI-{day.date:%Y}-{c:07d}" for c in case_ids],
        "opened_on": pl.select(utc.dt.date() - pl.duration(days=pl.Series(day.rng.integers(0, 400, day.n))))
        .to_series(),
        "updated_at": utc, "category": category, "status": status, "best_team": day.rng.random(day.n) < 0.4,
        "ibet_region": _str("ibet_region", np.where(day.rng.random(day.n) < 0.85, pl_["region"].to_numpy(), None)),
        "arrests": np.where(status == "CLOSED_ARREST", day.rng.integers(1, 5, day.n), 0),
        "seized_usd": np.where(day.rng.random(day.n) < 0.3, np.round(day.rng.gamma(2, 30000, day.n), 2), 0.0),
        "ev": np.arange(day.n),
    }).with_columns(pl.col("ibet_region").cast(pl.Utf8), pl.col("category").cast(pl.Utf8),
                    pl.col("status").cast(pl.Utf8))
    rows, kinds, partners = defects(day)
    import datetime as dt
    df = corrupt(df, rows, kinds, partners, {
        "missing_required": ("category", None), "bad_date": ("opened_on", dt.date(1850, 1, 1)),
        "bad_coords": ("ibet_region", "ZZZ"), "unknown_code": ("status", "PENDING"),
    }, "case_number")
    df = df.join(subs.group_by("ev").agg(pl.col("s").sort_by("slot")), on="ev", how="left", maintain_order="left")
    partners_list = np.array([["RCMP"], ["CBP", "RCMP"], [], ["CBSA"], ["USCG", "RCMP"]], dtype=object)
    table = df.select(
        "case_number", "opened_on", "updated_at", "category", "status", "best_team", "ibet_region", "arrests",
        "seized_usd", pl.col("s").fill_null(pl.lit([], pl.List(subs.schema["s"]))).alias("subjects"),
        _str("partner_agencies", partners_list[day.rng.integers(0, 5, day.n)].tolist(), dtype=pl.List(pl.Utf8)),
        pl.format("Case summary: subjects {} under investigation", pl.col("s").list.first().struct.field("name"))
        .alias("summary"),
        _str("caveat", _caveats(day, REL_USA)),
    ).to_arrow()
    pq.write_table(table, out / name)
    t = truth_for(day, rows, kinds, partners, name, "ice", df["case_number"])
    bad = t["bad_positions"]
    t.update(rows={"cases": day.n, "subjects": int(n_sub.sum())},
             expected_quarantined={"cases": len(bad), "subjects": int(n_sub[bad].sum()) if bad else 0})
    ok = subs.filter(~pl.col("ev").is_in(bad)).join(df.select("ev", "case_number"), on="ev")
    t["subjects"] = [[s, int(k) + 1, int(p)] for s, k, p in zip(ok["case_number"], ok["slot"], ok["person_id"])]
    return t


def uscg(day: Day, out: Path) -> dict:
    name = f"USCG_MIR_{day.date:%Y%m%d}.xml"
    pl_ = places(day.rng, day.n, list(USCG_DISTRICTS))
    utc = event_times(day)
    dtg = utc.dt.strftime("%d%H%MZ %b %y").str.to_uppercase()
    district = pl_["region"].replace_strict(USCG_DISTRICTS)
    outcome = _choice(day, uscg_contract.OUTCOMES, [0.4, 0.25, 0.15, 0.2])
    ppl = _people(day, 0.6)
    n_seiz = np.where(outcome == "SEIZURE", day.rng.integers(1, 3, day.n), 0)

    def ddm(v: np.ndarray, pos: str, neg: str) -> list[str]:
        a = np.abs(v)
        d = np.floor(a).astype(int)
        minutes = np.floor((a - d) * 600) / 10  # truncate: 59.96' must not print as 60.0'
        return [f"{x} {m:04.1f}{h}" for x, m, h in zip(d, minutes, np.where(v >= 0, pos, neg))]

    seq = day.index * day.n + np.arange(day.n)
    df = pl.DataFrame({
        "id": [f"{d}-{day.date:%y}-{s:05d}" for d, s in zip(district, seq)], "dtg": dtg, "district": district,
        "lat": ddm(pl_["lat"].to_numpy(), "N", "S"), "lon": ddm(pl_["lon"].to_numpy(), "E", "W"),
        "outcome": outcome, "ev": np.arange(day.n),
        "mdob": ppl["dob"].cast(pl.Utf8), "mnat": ppl["nationality"],
    })
    rows, kinds, partners = defects(day, WITH_PERSONAL)
    bad_dob, bad_nat = personal_defects(day)
    planted: list[str] = []
    df = corrupt(df, rows, kinds, partners, {
        "missing_required": ("outcome", ""), "bad_date": ("dtg", "329999Z NOV 26"),
        "bad_coords": ("lat", "95 10.0N"), "unknown_code": ("district", "D99"),
        "bad_identifier": ("mdob", bad_dob), "bad_quasi": ("mnat", bad_nat),
    }, "id", planted)
    sev = np.repeat(np.arange(day.n), n_seiz)
    weighed = [c for c, (_, measure) in COMMODITIES_MEASURED.items() if measure != "units"]  # USCG reports kg
    scom = np.array(weighed, dtype=object)[day.rng.integers(0, len(weighed), len(sev))]
    seiz = pl.DataFrame({"ev": sev, "c": pl.Series(scom),
                         "kg": np.round(day.rng.gamma(2, 8, len(sev)), 1),
                         "v": np.round(day.rng.gamma(2, 30000, len(sev)), 0)}).with_columns(
        pl.format('<Seizure commodity="{}" kg="{}" value_usd="{}"/>', "c", "kg", "v").alias("x")
    ).group_by("ev", maintain_order=True).agg(pl.col("x").str.join(""))
    df = df.join(seiz, on="ev", how="left", maintain_order="left")
    # a personal defect needs its Master element in the file
    has_master = ppl["person_id"].is_not_null() | pl.Series(np.isin(np.arange(day.n),
                                                                    rows[np.isin(kinds, PERSONAL_DEFECT_KINDS)]))
    vtype = _choice(day, ["PLEASURE", "FISHING", "CARGO", "OTHER"], [0.6, 0.2, 0.1, 0.1])
    flag = _choice(day, ["USA", "CAN", "LBR", "PAN"], [0.5, 0.4, 0.05, 0.05])
    vessel_names = _choice(day, ["SEA WITCH", "NORTHERN STAR", "BLUE HERON", "MISTY MORNING", "LAKE RUNNER"])
    mmsi = day.rng.integers(100_000_000, 999_999_999, day.n).astype(str)
    master = pl.when(has_master).then(pl.format(
        '<Master name="{}" dob="{}" nationality="{}"/>',
        xml_escape(pl.coalesce(ppl["surname"] + ", " + ppl["given"], pl.lit("UNKNOWN, MASTER"))),
        df["mdob"].fill_null(""), df["mnat"].fill_null(""))).otherwise(pl.lit(""))
    narrative = xml_escape(pl.format("Boarded vessel; master {} cooperative. Crew & cargo checked.",
                                     pl.coalesce(ppl["given"] + " " + ppl["surname"], pl.lit("unknown"))))
    body = df.with_columns(_str("vt", vtype), _str("fl", flag),
                           _str("vn", vessel_names), _str("mm", mmsi),
                           day.pool["hin"].gather(day.rng.integers(0, day.pool.height, day.n)).alias("hin"),
                           master.alias("master"), narrative.alias("narr"),
                           _str("sr", np.where(day.rng.random(day.n) < 0.3, "true", "false")),
                           _str("cav", _caveats(day, REL_USA)),
                           _str("pa", day.rng.integers(1, 8, day.n).astype(str))).select(pl.format(
        '  <Interdiction id="{}">\n    <DTG>{}</DTG>\n    <District>{}</District>\n'
        '    <Position lat="{}" lon="{}"/>\n    <Vessel name="{}" hin="{}" mmsi="{}" flag="{}" type="{}"/>\n'
        '    {}\n    <PersonsAboard>{}</PersonsAboard>\n    <Outcome>{}</Outcome>\n    {}\n'
        '    <ShipRider>{}</ShipRider>\n    <Narrative>{}</Narrative>\n    <Caveat>{}</Caveat>\n  </Interdiction>',
        "id", "dtg", "district", "lat", "lon", "vn", "hin", "mm", "fl", "vt", "master", "pa", "outcome",
        pl.col("x").fill_null(""), "sr", "narr", "cav"))
    with open(out / name, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<InterdictionReport date="{day.date.isoformat()}">\n')
        fh.write("\n".join(body.to_series().to_list()))
        fh.write("\n</InterdictionReport>\n")
    t = truth_for(day, rows, kinds, partners, name, "uscg", df["id"])
    bad = t["bad_positions"]
    t.update(rows={"interdictions": day.n, "seizures": int(n_seiz.sum())}, planted=planted,
             expected_quarantined={"interdictions": len(bad), "seizures": int(n_seiz[bad].sum()) if bad else 0},
             subjects=_appearances(df["id"], ppl["person_id"], bad))
    return t

"""One writer per source, each producing the file exactly as the ICD describes it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from contracts import cbp as cbp_contract
from contracts import cbsa as cbsa_contract
from contracts import rcmp as rcmp_contract
from contracts import uscg as uscg_contract
from ibet.generator.core import (CBP_SECTORS, CBSA_OFFICES, DEFECT_KINDS, DETACHMENTS, PERSONAL_DEFECT_KINDS,
                                 REGION_ZONES, US_ZONES, USCG_DISTRICTS, Day, corrupt, defects, event_times,
                                 local_times, personal_defects, places, subject_draw, truth_for, xml_escape)
from ibet.vocabulary import COMMODITIES as COMMODITIES_MEASURED
from ibet.vocabulary import COMMODITY_CODES, ORCON, REL_CAN, REL_IBET, REL_USA

#: Writers whose flat formats carry personal columns with a rule also corrupt those.
WITH_PERSONAL = DEFECT_KINDS + PERSONAL_DEFECT_KINDS

RCMP_TYPES = list(rcmp_contract.OCCURRENCE_TYPES)
COMMODITIES = list(COMMODITY_CODES)


def _str(name: str, values: object, dtype: object = None) -> pl.Series:
    """A Series from a numpy array (None stays null; text arrays become Utf8)."""
    if isinstance(values, np.ndarray):
        if dtype is None and values.dtype.kind in "OU":
            dtype = pl.Utf8
        values = values.tolist()
    return pl.Series(name, values, dtype=dtype)


def _choice(day: Day, values: list, p: list[float] | None = None) -> np.ndarray:
    return np.array(values)[day.rng.choice(len(values), day.n, p=p)]


def _caveats(day: Day, local: str) -> np.ndarray:
    return _choice(day, [REL_IBET, local, ORCON], [0.75, 0.18, 0.07])


def _people(day: Day, share: float) -> pl.DataFrame:
    """Per row: the person (or nulls) filling the subject slot."""
    ids = subject_draw(day, share)
    return pl.DataFrame({"person_id": ids}).join(day.pool, on="person_id", how="left", maintain_order="left")


def _narrative(who: pl.Expr, where: pl.Expr) -> pl.Expr:
    # Free text carries names and places, commas and line breaks: it must never reach the lake.
    return pl.format("Patrol observed {} near {}, subject questioned.\nFollow-up, see file.", who, where)


def _appearances(ids: pl.Series, person: pl.Series, bad: list[int], seq: int = 1) -> list[list]:
    ok = pl.DataFrame({"sid": ids, "pid": person}).with_row_index("i").filter(
        pl.col("pid").is_not_null() & ~pl.col("i").is_in(bad))
    return [[s, seq, int(p)] for s, p in zip(ok["sid"].to_list(), ok["pid"].to_list())]


def rcmp(day: Day, out: Path) -> dict:
    name = f"RCMP_IBET_OCC_{day.date:%Y%m%d}.csv"
    pl_ = places(day.rng, day.n)
    utc = event_times(day)
    zones = pl_["region"].replace_strict(REGION_ZONES)
    local = local_times(utc, zones, "%Y-%m-%d %H:%M")["local"]
    ppl = _people(day, 0.45)
    has_coords = day.rng.random(day.n) > 0.08
    commodity = np.where(day.rng.random(day.n) < 0.4, _choice(day, COMMODITIES), None)
    unit = np.where(commodity == "CURRENCY", "CAD", np.where(commodity == "FIREARMS", "units",
                    np.where(day.rng.random(day.n) < 0.5, "kg", "g")))
    # counted goods (firearms: units) are whole numbers; weighed goods and amounts are not
    qty = np.where(unit == "units", np.ceil(day.rng.gamma(1.5, 2.0, day.n)), np.round(day.rng.gamma(2.0, 15.0, day.n), 3))
    seq = day.index * day.n + np.arange(day.n)
    df = pl.DataFrame({
        "occurrence_id": [f"{day.date.year}-{s % 1_000_000:06d}" for s in seq],
        "reported_local": local, "detachment_tz": zones,
        "detachment": pl_["region"].replace_strict(DETACHMENTS),
        "latitude": _str("latitude", np.where(has_coords, np.round(pl_["lat"].to_numpy(), 5).astype(str), None)),
        "longitude": _str("longitude", np.where(has_coords, np.round(pl_["lon"].to_numpy(), 5).astype(str), None)),
        "occurrence_type": _choice(day, RCMP_TYPES),
        "intel_led": _choice(day, ["Y", "N"], [0.35, 0.65]),
        "joint_operation_id": _str("joint_operation_id", np.where(
            day.rng.random(day.n) < 0.15,
            [f"JOP-{r}-{x:04d}" for r, x in zip(pl_["region"], day.rng.integers(1, 60, day.n))], None)),
    }).with_columns(
        ppl["surname"].alias("subject_surname"),
        pl.concat_str([ppl["given"], ppl["middle"]], separator=" ").str.strip_chars().alias("subject_given_names"),
        ppl["dob"].cast(pl.Utf8).alias("subject_dob"), ppl["sex"].alias("subject_gender"),
        ppl["nationality"].alias("subject_citizenship"),
        pl.when(pl.Series(day.rng.random(day.n) < 0.5)).then(
            ppl["plate"].str.slice(0, 3) + " " + ppl["plate"].str.slice(3)).alias("licence_plate"),
        pl.when(pl.Series(day.rng.random(day.n) < 0.5)).then(ppl["plate_jurisdiction"]).alias("plate_jurisdiction"),
        _str("seizure_commodity", commodity),
    ).with_columns(
        pl.when(pl.col("licence_plate").is_null()).then(None).otherwise(pl.col("plate_jurisdiction"))
        .alias("plate_jurisdiction"),
        pl.when(pl.col("seizure_commodity").is_not_null()).then(pl.Series(qty.astype(str))).alias("seizure_quantity"),
        pl.when(pl.col("seizure_commodity").is_not_null()).then(pl.Series(unit)).alias("seizure_unit"),
        pl.when(pl.col("seizure_commodity").is_not_null()).then(
            pl.Series(np.round(qty * day.rng.uniform(500, 40000, day.n), 2).astype(str))).alias("seizure_value_cad"),
        _narrative(pl.coalesce(ppl["given"] + " " + ppl["surname"], pl.lit("unknown person")),
                   pl_["region"].replace_strict(DETACHMENTS)).alias("narrative"),
        _str("caveat", _caveats(day, REL_CAN)),
    )
    rows, kinds, partners = defects(day, WITH_PERSONAL)
    bad_dob, bad_nat = personal_defects(day)
    planted: list[str] = []
    df = corrupt(df, rows, kinds, partners, {
        "missing_required": ("occurrence_type", None), "bad_date": ("reported_local", "2026-13-45 25:61"),
        "bad_coords": ("latitude", "123.45678"), "unknown_code": ("occurrence_type", "SMUGGLING_X"),
        "bad_identifier": ("subject_dob", bad_dob), "bad_quasi": ("subject_citizenship", bad_nat),
    }, "occurrence_id", planted)
    df.write_csv(out / name, include_bom=True, line_terminator="\r\n", quote_style="necessary")
    t = truth_for(day, rows, kinds, partners, name, "rcmp", df["occurrence_id"])
    t.update(rows={"occurrences": day.n}, expected_quarantined={"occurrences": len(t["bad_positions"])},
             planted=planted,
             subjects=_appearances(df["occurrence_id"], ppl["person_id"], t["bad_positions"]))
    return t


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


def cbsa(day: Day, out: Path) -> dict:
    name = f"cbsa_enforcement_{day.date:%Y-%m-%d}.jsonl"
    offices = list(CBSA_OFFICES)
    pl_ = places(day.rng, day.n, offices)
    utc = event_times(day)
    lt = local_times(utc, pl_["region"].replace_strict(REGION_ZONES), "%Y-%m-%dT%H:%M:%S")
    iso = lt["local"] + lt["offset"]
    action = _choice(day, cbsa_contract.ACTIONS, [0.4, 0.25, 0.2, 0.15])
    n_persons = np.where(day.rng.random(day.n) < 0.7, day.rng.integers(1, 4, day.n), 0)
    n_goods = np.where(action == "SEIZURE", day.rng.integers(1, 4, day.n), 0)
    ev = np.repeat(np.arange(day.n), n_persons)
    slot = np.concatenate([np.arange(k) for k in n_persons]) if len(ev) else np.array([], dtype=int)
    u = day.rng.random(len(ev))
    pid = np.floor(day.pool.height * u ** 2.2).astype(np.int64)
    persons = pl.DataFrame({"ev": ev, "slot": slot, "person_id": pid}).join(
        day.pool, on="person_id", how="left", maintain_order="left")
    has_doc = pl.Series(day.rng.random(len(ev)) < 0.7)
    doc_type = pl.Series(np.array(["PASSPORT", "NEXUS", "PR_CARD"], dtype=object)[
        day.rng.choice(3, len(ev), p=[0.8, 0.12, 0.08])])
    persons = persons.with_columns(pl.struct(
        pl.col("surname").alias("family_name"), pl.col("given").alias("given_name"),
        pl.col("dob").dt.strftime("%d/%m/%Y").alias("birth_date"), pl.col("sex"), pl.col("nationality"),
        pl.when(has_doc).then(pl.struct(doc_type.alias("type"),
                                        # CBSA keys the number as printed, lower case with a space
                                        (pl.col("passport_no").str.slice(0, 2).str.to_lowercase() + " "
                                         + pl.col("passport_no").str.slice(2)).alias("number"),
                                        pl.col("nationality").alias("issuer"))).alias("travel_doc"),
    ).alias("p"))
    gev = np.repeat(np.arange(day.n), n_goods)
    gcom = np.array(COMMODITIES, dtype=object)[day.rng.integers(0, 7, len(gev))]
    uom = np.where(gcom == "FIREARMS", "NMB", np.where(day.rng.random(len(gev)) < 0.6, "KGM", "GRM"))
    goods = pl.DataFrame({"ev": gev, "g": pl.Series(np.arange(len(gev)))}).with_columns(pl.struct(
        _str("commodity", gcom), _str("quantity", np.where(gcom == "FIREARMS", np.ceil(day.rng.gamma(1.5, 2, len(gev))),
                                                           np.round(day.rng.gamma(2, 10, len(gev)), 3))),
        _str("uom", uom), _str("value_cad", np.round(day.rng.gamma(2, 20000, len(gev)), 2)),
    ).alias("g"))
    has_loc = day.rng.random(day.n) > 0.1
    mode = _choice(day, ["ROAD", "RAIL", "MARINE", "AIR", "FOOT"], [0.6, 0.05, 0.1, 0.05, 0.2])
    seq = day.index * day.n + np.arange(day.n)
    first_person = persons.filter(pl.col("slot") == 0).select("ev", "plate")
    df = pl.DataFrame({
        "event_ref": [f"CBSA-{day.date:%y}-{s % 10_000_000:07d}" for s in seq], "occurred_at": iso,
        "office_code": pl_["region"].replace_strict(CBSA_OFFICES), "between_ports": day.rng.random(day.n) < 0.8,
        "action": action, "ev": np.arange(day.n), "lat": pl_["lat"].round(5), "lon": pl_["lon"].round(5),
        "has_loc": has_loc, "mode": mode,
    }).join(first_person, on="ev", how="left", maintain_order="left")
    rows, kinds, partners = defects(day)
    df = corrupt(df, rows, kinds, partners, {
        "missing_required": ("action", None), "bad_date": ("occurred_at", "03/11/2026 14:22"),
        "bad_coords": ("lat", 123.4), "unknown_code": ("action", "DETAIN"),
    }, "event_ref")
    bad_coord_rows = rows[kinds == "bad_coords"].tolist()
    plist = persons.group_by("ev").agg(pl.col("p").sort_by("slot"))
    glist = goods.group_by("ev").agg(pl.col("g").sort_by("g"))
    df = df.join(plist, on="ev", how="left", maintain_order="left").join(glist, on="ev", how="left",
                                                                          maintain_order="left")
    loc_on = pl.col("has_loc") | pl.col("ev").is_in(bad_coord_rows)
    out_df = df.select(
        "event_ref", "occurred_at", "office_code", "between_ports", "action",
        pl.when(loc_on).then(pl.struct("lat", "lon")).alias("location"),
        pl.col("p").fill_null(pl.lit([], pl.List(persons.schema["p"]))).alias("persons"),
        pl.col("g").fill_null(pl.lit([], pl.List(goods.schema["g"]))).alias("goods"),
        pl.when(pl.col("mode") != "FOOT").then(pl.struct(
            pl.col("mode"), pl.when(pl.col("mode") == "ROAD").then(
                pl.col("plate").str.slice(0, 3) + "-" + pl.col("plate").str.slice(3)).alias("plate"))).alias("conveyance"),
        pl.format("Officer notes: {} examined at office {}, details withheld, see file",
                  pl.col("event_ref"), pl.col("office_code")).alias("officer_notes"),
        _str("caveat", _caveats(day, REL_CAN)),
    )
    # notes name the first person, like real free text would
    out_df = out_df.with_columns(pl.when(pl.col("persons").list.len() > 0).then(
        pl.format("Subject {} {} refused to answer.", pl.col("persons").list.first().struct.field("given_name"),
                  pl.col("persons").list.first().struct.field("family_name"))).otherwise(pl.col("officer_notes"))
        .alias("officer_notes"))
    out_df.write_ndjson(out / name)
    t = truth_for(day, rows, kinds, partners, name, "cbsa", df["event_ref"])
    bad = t["bad_positions"]
    t.update(rows={"events": day.n, "persons": int(n_persons.sum()), "goods": int(n_goods.sum())},
             expected_quarantined={"events": len(bad), "persons": int(n_persons[bad].sum()) if bad else 0,
                                   "goods": int(n_goods[bad].sum()) if bad else 0})
    ok = persons.filter(~pl.col("ev").is_in(bad)).join(df.select("ev", "event_ref"), on="ev")
    t["subjects"] = [[s, int(k) + 1, int(p)] for s, k, p in zip(ok["event_ref"], ok["slot"], ok["person_id"])]
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


def program_day(day: Day, out: Path) -> list[dict]:
    """Outreach events and radio tests of one day (a handful of rows each)."""
    from ibet.reference import region_codes

    codes = region_codes()
    k = int(day.rng.integers(1, 5))
    o = pl.DataFrame({
        "event_id": [f"OUT-{day.date:%Y%m%d}-{i:03d}" for i in range(k)],
        "event_date": [day.date.isoformat()] * k, "region_code": np.array(codes)[day.rng.integers(0, 15, k)],
        "program": np.array(["BORDER_WATCH", "INN_TOUCH", "COASTAL_WATCH", "AIRPORT_WATCH"])[day.rng.integers(0, 4, k)],
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

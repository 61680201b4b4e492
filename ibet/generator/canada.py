"""Canadian partners' files, each exactly as the ICD describes it: RCMP CSV, CBSA JSON Lines."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from contracts import cbsa as cbsa_contract
from ibet.generator.common import (WITH_PERSONAL, RCMP_TYPES, COMMODITIES, _str, _choice, _caveats, _people, _narrative, _appearances)
from ibet.generator.core import (CBSA_OFFICES, DETACHMENTS, REGION_ZONES, Day, corrupt, defects, event_times,
                                 local_times, personal_defects, places, truth_for)
from foundation.vocabulary import REL_CAN


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

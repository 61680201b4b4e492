"""Known answers: hand-written extracts, normalized values checked one by one."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from ibet.ingest import ingest_file

UTC = dt.timezone.utc


def _events(home, agency):
    return pl.read_parquet(home.lake / "events" / f"agency={agency}" / "*" / "*.parquet").sort("source_row")


def _table(home, table, agency):
    return pl.read_parquet(home.lake / table / f"agency={agency}" / "*" / "*.parquet")


def test_rcmp_local_time_units_and_region(home):
    f = home.inbox / "rcmp" / "RCMP_IBET_OCC_20261103.csv"
    f.parent.mkdir(parents=True, exist_ok=True)
    header = ("occurrence_id,reported_local,detachment_tz,detachment,latitude,longitude,occurrence_type,intel_led,"
              "joint_operation_id,subject_surname,subject_given_names,subject_dob,subject_gender,subject_citizenship,"
              "licence_plate,plate_jurisdiction,seizure_commodity,seizure_quantity,seizure_unit,seizure_value_cad,"
              "narrative,caveat")
    rows = [
        '2026-000001,2026-11-03 06:30,America/Toronto,Windsor,49.0,-122.7,DRUG,Y,JOP-PAC-0042,Gagné,Hélène,'
        '1980-02-03,F,CAN,ABC 123,BC,COCAINE,2500,g,50000,"Long, story\nwith lines",REL_IBET',
        '2026-000002,2026-07-01 12:00,America/Toronto,Lacolle,,,OTHER,N,,,,,,,,,,,,,,REL_CAN',
    ]
    f.write_bytes(("\ufeff" + "\r\n".join([header, *rows]) + "\r\n").encode())
    r = ingest_file("rcmp", f, settings=home)
    assert r.ok and r.rows_loaded == 2, r
    ev = _events(home, "rcmp")
    assert ev["occurred_at"].to_list() == [dt.datetime(2026, 11, 3, 11, 30, tzinfo=UTC),  # EST, UTC-5
                                           dt.datetime(2026, 7, 1, 16, 0, tzinfo=UTC)]  # EDT, UTC-4
    assert ev["region_code"].to_list() == ["PAC", "CHA"]
    assert ev["region_source"].to_list() == ["coordinates", "unit"]
    assert ev["category"].to_list() == ["DRUGS", "OTHER"]
    assert ev["intel_led"].to_list() == [True, False] and ev["is_joint"].to_list() == [True, False]
    seiz = _table(home, "seizures", "rcmp")
    assert seiz["quantity_kg"].to_list() == [2.5] and seiz["value"].to_list() == [50000.0]
    subj = _table(home, "subjects", "rcmp")
    assert subj["birth_year"].to_list() == [1980] and subj["sex"].to_list() == ["F"]


def test_cbp_abbreviated_zones_dms_pounds_marijuana(home):
    f = home.inbox / "cbp" / "CBP_NB_20261103.csv"
    f.parent.mkdir(parents=True, exist_ok=True)
    cols = ("event_no|event_date|tz|sector|station|lat_dms|lon_dms|event_type|subject_name|dob|a_number|passport_no|"
            "passport_country|nationality|persons_apprehended|drug_type|drug_lbs|currency_usd|firearms_count|remarks|"
            "release")
    rows = ['E1|11/03/2026 02:15 PM|EST|SWB|Champlain|45°0\'36"N|73°27\'0"W|BOTH|GAGNE, HELENE|02/03/1980|'
            'A123456789|X1||CAN|2|MARIJUANA|10|500|1|text|REL_USA',
            "E2|11/03/2026 12:05 AM|PDT|BLW|Blaine|||GOTAWAY|||||||||||||REL_IBET"]
    f.write_text("\n".join([cols, *rows]) + "\n")
    r = ingest_file("cbp", f, settings=home)
    assert r.ok and r.rows_loaded == 2, r
    ev = _events(home, "cbp")
    assert ev["occurred_at"].to_list() == [dt.datetime(2026, 11, 3, 19, 15, tzinfo=UTC),
                                           dt.datetime(2026, 11, 3, 7, 5, tzinfo=UTC)]
    assert ev["latitude"][0] == pytest.approx(45.01) and ev["longitude"][0] == pytest.approx(-73.45)
    assert ev["region_code"].to_list() == ["CHA", "PAC"] and ev["action"].to_list() == ["APPREHENSION", "GOTAWAY"]
    assert ev["is_interdiction"].to_list() == [True, False] and ev["arrests"].to_list() == [2, 0]
    seiz = _table(home, "seizures", "cbp").sort("seizure_seq")
    assert seiz["commodity"].to_list() == ["CANNABIS", "CURRENCY", "FIREARMS"]
    assert seiz["quantity_kg"][0] == pytest.approx(4.5359237)
    assert seiz["value"][1] == 500 and seiz["currency"][1] == "USD" and seiz["quantity_units"][2] == 1
    assert _table(home, "subjects", "cbp").height == 1


def test_cbsa_nested_offsets_and_units(home):
    f = home.inbox / "cbsa" / "cbsa_enforcement_2026-11-03.jsonl"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(
        '{"event_ref":"CBSA-26-0000001","occurred_at":"2026-11-03T14:22:05-05:00","office_code":"0427",'
        '"between_ports":true,"action":"SEIZURE","location":{"lat":45.01,"lon":-73.45},'
        '"persons":[{"family_name":"Gagné","given_name":"Hélène","birth_date":"03/02/1980","sex":"F",'
        '"nationality":"CAN","travel_doc":{"type":"PASSPORT","number":"ab 123","issuer":"CAN"}},'
        '{"family_name":"Roy","given_name":"Luc","birth_date":"31/02/1980","sex":"M","nationality":"CAN",'
        '"travel_doc":null}],'
        '"goods":[{"commodity":"METH","quantity":750,"uom":"GRM","value_cad":1000},'
        '{"commodity":"FIREARMS","quantity":2,"uom":"NMB","value_cad":3000}],'
        '"conveyance":{"mode":"ROAD","plate":"XYZ-987"},"officer_notes":"n","caveat":"REL_IBET"}\n'
        '{"event_ref":"CBSA-26-0000002","occurred_at":"2026-11-03T10:00:00+00:00","office_code":"9999",'
        '"between_ports":false,"action":"REFERRAL","location":null,"persons":[],"goods":[],"conveyance":null,'
        '"officer_notes":null,"caveat":"REL_CAN"}\n')
    r = ingest_file("cbsa", f, settings=home)
    assert r.ok
    assert r.levels == {"events": {"read": 2, "loaded": 2, "quarantined": 0},
                        "persons": {"read": 2, "loaded": 1, "quarantined": 1},  # 31/02 is no date
                        "goods": {"read": 2, "loaded": 2, "quarantined": 0}}
    ev = _events(home, "cbsa")
    assert ev["occurred_at"][0] == dt.datetime(2026, 11, 3, 19, 22, 5, tzinfo=UTC)
    assert ev["category"].to_list() == ["DRUGS", "OTHER"] and ev["region_code"].to_list() == ["CHA", "UNK"]
    seiz = _table(home, "seizures", "cbsa").sort("seizure_seq")
    assert seiz["quantity_kg"].to_list()[0] == pytest.approx(0.75) and seiz["quantity_units"].to_list()[1] == 2
    conv = _table(home, "conveyances", "cbsa")
    assert conv["mode"].to_list() == ["ROAD"] and len(conv["plate_key"][0]) == 64


def test_uscg_dtg_and_decimal_minutes(home):
    f = home.inbox / "uscg" / "USCG_MIR_20261103.xml"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<InterdictionReport date="2026-11-03">
  <Interdiction id="D13-26-0457">
    <DTG>031422Z NOV 26</DTG><District>D13</District>
    <Position lat="48 22.5N" lon="123 05.2W"/>
    <Vessel name="SEA&amp;SKY" hin="ABC12345D404" mmsi="123456789" flag="USA" type="PLEASURE"/>
    <Master name="Gagné, Hélène" dob="1980-02-03" nationality="CAN"/>
    <PersonsAboard>3</PersonsAboard><Outcome>SEIZURE</Outcome>
    <Seizure commodity="COCAINE" kg="12.5" value_usd="400000"/>
    <Seizure commodity="CANNABIS" kg="3" value_usd="9000"/>
    <ShipRider>true</ShipRider><Narrative>Line one
line two	with tab</Narrative><Caveat>REL_USA</Caveat>
  </Interdiction>
</InterdictionReport>
""")
    r = ingest_file("uscg", f, settings=home)
    assert r.ok and r.levels["seizures"]["loaded"] == 2, r
    ev = _events(home, "uscg")
    assert ev["occurred_at"][0] == dt.datetime(2026, 11, 3, 14, 22, tzinfo=UTC)
    assert ev["latitude"][0] == pytest.approx(48.375) and ev["longitude"][0] == pytest.approx(-123.0866667)
    assert ev["region_code"][0] == "PAC" and ev["is_joint"][0] and ev["category"][0] == "DRUGS"
    assert _table(home, "seizures", "uscg")["quantity_kg"].sum() == pytest.approx(15.5)
    conv = _table(home, "conveyances", "uscg")
    assert conv["vessel_name"][0] == "SEA&SKY" and len(conv["vessel_key"][0]) == 64


def test_ice_reported_region_and_subjects(home):
    import pyarrow as pa
    import pyarrow.parquet as pq

    f = home.inbox / "ice" / "ice_hsi_cases_20261103.parquet"
    f.parent.mkdir(parents=True, exist_ok=True)
    subj = pa.struct([("name", pa.string()), ("dob", pa.date32()), ("passport_no", pa.string()),
                      ("nationality", pa.string())])
    pq.write_table(pa.table({
        "case_number": ["C1"], "opened_on": pa.array([dt.date(2026, 1, 1)]),
        "updated_at": pa.array([dt.datetime(2026, 11, 3, 8, 0)], pa.timestamp("ns", tz="UTC")),
        "category": ["FINANCIAL"], "status": ["CLOSED_ARREST"], "best_team": [True], "ibet_region": ["NIA"],
        "arrests": pa.array([2], pa.int32()), "seized_usd": [1000.0],
        "subjects": pa.array([[{"name": "Gagné, Hélène", "dob": dt.date(1980, 2, 3), "passport_no": "AB-1",
                                "nationality": "CAN"}]], pa.list_(subj)),
        "partner_agencies": [["RCMP"]], "summary": ["secret"], "caveat": ["REL_IBET"]}), f)
    r = ingest_file("ice", f, settings=home)
    assert r.ok and r.levels["subjects"]["loaded"] == 1, r
    ev = _events(home, "ice")
    assert ev["region_code"][0] == "NIA" and ev["region_source"][0] == "reported"
    assert ev["category"][0] == "CURRENCY" and ev["arrests"][0] == 2 and ev["is_interdiction"][0]
    assert _table(home, "seizures", "ice")["commodity"].to_list() == ["CURRENCY"]


def test_time_zone_rules_are_current_iana():
    """British Columbia stays on UTC-7 from November 2026 (IANA 2026 rules). The system's
    tzdata may be older; the transforms use DuckDB's ICU rules, which must match the
    ``tzdata`` package pinned with the project."""
    import importlib.resources
    import zoneinfo

    import duckdb

    z = zoneinfo.ZoneInfo.from_file(
        importlib.resources.files("tzdata.zoneinfo").joinpath("America/Vancouver").open("rb"))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for local in (dt.datetime(2026, 11, 3, 6, 30), dt.datetime(2026, 1, 15, 6, 30), dt.datetime(2027, 1, 15, 6, 30)):
        expected = local.replace(tzinfo=z).astimezone(UTC).replace(tzinfo=None)
        got = con.sql(f"SELECT CAST(timezone('America/Vancouver', TIMESTAMP '{local}') AS TIMESTAMP)").fetchall()[0][0]
        assert got == expected, local

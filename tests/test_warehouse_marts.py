"""Known-answer tests: a small hand-built lake, every mart's numbers checked exactly."""
from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest

from foundation.settings import AUDIENCES
from tests.conftest import fresh_home
from tests.lakebuild import LakeBuilder, write_reference
from warehouse.build import build_all, published_path
from warehouse.runner import AUDIENCE_LAYERS, sql_files

PA, PB, PLATE = "a" * 64, "b" * 64, "c" * 64
OLD_SUBJECT, NEW_SUBJECT, SHARED_SUBJECT, WITHHELD_SUBJECT = "e" * 64, "f" * 64, "1" * 64, "2" * 64
#: DOMAIN.md, releasability, written out here rather than read from the settings under test
DOMAIN_CAVEATS = {"ibet": {"REL_IBET"}, "can": {"REL_IBET", "REL_CAN"}, "usa": {"REL_IBET", "REL_USA"},
                  "evaluator": {"REL_IBET", "REL_CAN", "REL_USA"}}
#: the events sent for (agency, region EST, Canadian fiscal year 2008-09), by caveat
EST_CELL = {"rcmp": ["REL_IBET"] * 5 + ["REL_CAN", "ORCON"], "cbp": ["REL_IBET"] * 5 + ["REL_USA", "ORCON"]}


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """Build the known-answer lake once and publish every audience."""
    with fresh_home(tmp_path_factory.mktemp("known")) as s:
        yield _build_known(s)


def _build_known(s):
    write_reference(s, "fx_rates.csv", "fiscal_year,usd_to_cad,source\n2006-07,1.25,test\n2007-08,1.10,test\n")
    lb = LakeBuilder(s)
    # fiscal-year boundaries (rcmp, REL_IBET, PAC)
    e1 = lb.event("rcmp", "E1", "2007-03-31 12:00", category="DRUGS")
    lb.event("rcmp", "E2", "2007-04-01 12:00", category="DRUGS")
    e3 = lb.event("rcmp", "E3", "2006-09-30 12:00", category="DRUGS")
    lb.event("rcmp", "E4", "2006-10-01 12:00", category="DRUGS")
    lb.child("subjects", "rcmp", e1, "2007-03-31", subject_seq=1, role="SUBJECT", person_key=PA)
    lb.child("subjects", "rcmp", "rcmp:E2", "2007-04-01", subject_seq=1, role="SUBJECT", person_key=PB)
    lb.child("subjects", "rcmp", e3, "2006-09-30", subject_seq=1, role="SUBJECT", person_key=PB)
    # 8-week trend: cbsa NIA TOBACCO, 2 events a week for 8 weeks, then 6; 5 of them interdictions
    import datetime as dt
    monday = dt.date(2007, 5, 7)
    n = 0
    for week in range(9):
        for i in range(6 if week == 8 else 2):
            n += 1
            when = dt.datetime.combine(monday + dt.timedelta(days=7 * week + 1), dt.time(12, i))
            lb.event("cbsa", f"T{n:03d}", when.strftime("%Y-%m-%d %H:%M"), region_code="NIA", category="TOBACCO",
                     action="SEIZURE" if n <= 5 else "REFERRAL", is_interdiction=n <= 5)
    lb.child("conveyances", "cbsa", "cbsa:T001", "2007-05-08", mode="ROAD", plate_key=PLATE)
    # 4 uscg interdictions in 2007-08 (suppressed in the evaluator file), one ShipRider patrol
    for i in range(4):
        lb.event("uscg", f"U{i}", f"2007-06-0{i + 1} 08:00", action="SEIZURE", is_interdiction=True,
                 category="DRUGS", is_joint=i == 0)
    lb.child("conveyances", "uscg", "uscg:U1", "2007-06-02", mode="MARINE", plate_key=PLATE)
    # caveats
    lb.event("rcmp", "CAN-ONLY", "2007-06-01 10:00", caveat="REL_CAN", region_code="KTI")
    lb.event("cbp", "USA-ONLY", "2007-06-01 10:00", caveat="REL_USA", region_code="KTI")
    orcon = lb.event("rcmp", "ORCON-SECRET-1", "2007-06-01 11:00", caveat="ORCON", region_code="KTI")
    lb.child("subjects", "rcmp", orcon, "2007-06-01", subject_seq=1, role="SUBJECT", person_key="d" * 64,
             caveat="ORCON")
    # ICE case updated on two days; a second case re-marked ORCON on its second day
    lb.event("ice", "CASE-1", "2007-06-10 09:00", action="INVESTIGATION", status="OPEN", region_code="SUP")
    lb.event("ice", "CASE-1", "2007-06-11 09:00", action="INVESTIGATION", status="CLOSED_ARREST", arrests=2,
             is_interdiction=True, region_code="SUP")
    # the case's subjects as sent each day: only the latest day's belong to the version that is shown
    lb.child("subjects", "ice", "ice:CASE-1", "2007-06-10", subject_seq=1, role="SUBJECT", person_key=OLD_SUBJECT)
    lb.child("subjects", "ice", "ice:CASE-1", "2007-06-11", subject_seq=1, role="SUBJECT", person_key=NEW_SUBJECT)
    lb.event("ice", "CASE-2", "2007-06-10 09:30", action="INVESTIGATION", region_code="SUP")
    lb.event("ice", "CASE-2", "2007-06-11 09:30", action="INVESTIGATION", region_code="SUP", caveat="ORCON")
    # a shared event naming two persons, one of whom the originator withholds (a caveat per record)
    mixed = lb.event("rcmp", "MIXED", "2007-06-12 09:00", region_code="SUP")
    lb.child("subjects", "rcmp", mixed, "2007-06-12", subject_seq=1, role="SUBJECT", person_key=SHARED_SUBJECT)
    lb.child("subjects", "rcmp", mixed, "2007-06-12", subject_seq=2, role="SUBJECT", person_key=WITHHELD_SUBJECT,
             caveat="ORCON")
    # seizures in CAD and USD (FY 2006-07, rate 1.25)
    s1 = lb.event("rcmp", "S1", "2006-11-15 12:00", action="SEIZURE", is_interdiction=True, region_code="PRA",
                  category="DRUGS")
    lb.child("seizures", "rcmp", s1, "2006-11-15", seizure_seq=1, commodity="COCAINE", category="DRUGS",
             quantity_kg=10.0, value=1000.0, currency="CAD")
    s2 = lb.event("cbp", "S2", "2006-11-15 12:00", action="SEIZURE", is_interdiction=True, region_code="PRA",
                  category="DRUGS")
    lb.child("seizures", "cbp", s2, "2006-11-15", seizure_seq=1, commodity="METH", category="DRUGS",
             quantity_kg=5.0, value=1000.0, currency="USD")
    # interception: 3 apprehensions and 1 gotaway (cbp, 2006-12)
    for i in range(3):
        a = lb.event("cbp", f"A{i}", f"2006-12-0{i + 1} 03:00", extract_date="2006-12-04", action="APPREHENSION",
                     is_interdiction=True, arrests=1, persons_count=1, category="ILLEGAL_ENTRY", region_code="RRV")
        if i == 0:
            lb.child("subjects", "cbp", a, "2006-12-04", subject_seq=1, role="SUBJECT", person_key=PA)
    lb.event("cbp", "G1", "2006-12-04 03:00", action="GOTAWAY", category="ILLEGAL_ENTRY", region_code="RRV")
    # a named joint operation with two events on one grid cell; latency 14 h and 12 h
    lb.event("rcmp", "J1", "2006-11-20 10:00", joint_operation_id="JOP-PAC-0001", is_joint=True,
             latitude=48.90, longitude=-122.90, category="DRUGS")
    j2 = lb.event("rcmp", "J2", "2006-11-20 12:00", joint_operation_id="JOP-PAC-0001", is_joint=True,
                  latitude=48.95, longitude=-122.80, category="DRUGS", action="SEIZURE", is_interdiction=True)
    lb.child("seizures", "rcmp", j2, "2006-11-20", seizure_seq=1, commodity="CANNABIS", category="DRUGS",
             quantity_kg=3.0, value=300.0, currency="CAD")
    # program data
    lb.program("finance", "2006-07", agency_code="rcmp", planned_spending=100000.0, actual_spending=90000.0,
               currency="CAD", note="$4,367,122 allocated to INSET")
    lb.program("finance", "2006-07", agency_code="cbp", planned_spending=200000.0, actual_spending=220000.0,
               currency="USD")
    lb.program("outreach", "2006-08-01", event_id="O1", event_date=dt.date(2006, 8, 1), region_code="PAC",
               program="BORDER_WATCH", attendees=40, tips_received=3)
    lb.program("outreach", "2006-08-02", event_id="O2", event_date=dt.date(2006, 8, 2), region_code="PAC",
               program="INN_TOUCH", attendees=10, tips_received=1)
    for i, ok in enumerate((True, True, False)):
        lb.program("radio_tests", "2006-09-05", test_id=f"R{i}", test_date=dt.date(2006, 9, 5), region_code="CHA",
                   agencies="rcmp;cbp", agency_count=2, cross_border=True, success=ok)
    # a count below 5 resting on 5 or more records: 6 radio tests in 2007-08, 4 of them passed
    for i in range(6):
        lb.program("radio_tests", "2007-09-05", test_id=f"R2-{i}", test_date=dt.date(2007, 9, 5), region_code="CMA",
                   agencies="rcmp;uscg", agency_count=2, cross_border=True, success=i < 4)
    # a share on 6 records whose complement is 1: 5 of 6 tests passed in 2009-10 (the failure would show)
    for i in range(6):
        lb.program("radio_tests", "2009-09-08", test_id=f"R3-{i}", test_date=dt.date(2009, 9, 8), region_code="CMA",
                   agencies="rcmp;uscg", agency_count=2, cross_border=True, success=i < 5)
    # one cell per agency in 2008-09 (EST) with every caveat, ORCON included: EST_CELL says what was sent
    for agency, caveats in EST_CELL.items():
        for i, caveat in enumerate(caveats):
            lb.event(agency, f"EST-{i}", f"2008-06-{10 + i} 10:00", caveat=caveat, region_code="EST")
    lb.write()
    result = build_all(s, gate=False)  # the marts' numbers are the subject here; the gate has its own tests
    assert result.published
    return s


def q(s, audience: str, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(published_path(s, audience)), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def ind(s, audience, calendar, fy, indicator, agency="ALL", region="ALL", detail=""):
    rows = q(s, audience, "SELECT value, basis_count, suppressed FROM mart_indicators WHERE calendar = ? AND "
             "fiscal_year = ? AND period = 'year' AND indicator = ? AND agency_code = ? AND region_code = ? "
             "AND detail = ?",
             [calendar, fy, indicator, agency, region, detail])
    assert len(rows) <= 1
    return rows[0] if rows else None


def test_fiscal_year_boundaries(known):
    got = dict(q(known, "ibet", "SELECT source_id, fiscal_year_can || ' ' || fiscal_year_us FROM fact_events "
                                "WHERE source_id IN ('E1', 'E2', 'E3', 'E4')"))
    assert got == {"E1": "2006-07 FY2007", "E2": "2007-08 FY2007", "E3": "2006-07 FY2006", "E4": "2006-07 FY2007"}
    quarters = dict(q(known, "ibet", "SELECT CAST(date_key AS VARCHAR), fiscal_quarter_can || fiscal_quarter_us "
                                     "FROM dim_date WHERE date_key IN ('2007-03-31', '2007-04-01', '2006-09-30', "
                                     "'2006-10-01')"))
    assert quarters == {"2007-03-31": "Q4Q2", "2007-04-01": "Q1Q3", "2006-09-30": "Q2Q4", "2006-10-01": "Q3Q1"}
    # rcmp PAC events per fiscal year in both calendars (E1-E4, J1, J2 are rcmp PAC)
    assert ind(known, "ibet", "CAN", "2006-07", "events_reported", "rcmp", "PAC")[0] == 5
    assert ind(known, "ibet", "CAN", "2007-08", "events_reported", "rcmp", "PAC")[0] == 1
    assert ind(known, "ibet", "USA", "FY2006", "events_reported", "rcmp", "PAC")[0] == 1
    assert ind(known, "ibet", "USA", "FY2007", "events_reported", "rcmp", "PAC")[0] == 5
    years = q(known, "ibet", "SELECT fiscal_year, start_date::VARCHAR, end_date::VARCHAR, days FROM dim_fiscal_year "
                             "WHERE fiscal_year IN ('2006-07', 'FY2007') ORDER BY 1")
    assert years == [("2006-07", "2006-04-01", "2007-03-31", 365), ("FY2007", "2006-10-01", "2007-09-30", 365)]


def test_trend_against_trailing_eight_weeks(known):
    rows = q(known, "ibet", "SELECT week_start::VARCHAR, events, trailing_weeks, trailing_8wk_mean, change_vs_trailing, "
                            "pct_change_vs_trailing, trend FROM mart_activity_weekly WHERE region_code = 'NIA' AND "
                            "category = 'TOBACCO' ORDER BY week_start")
    by_week = {r[0]: r[1:] for r in rows}
    assert by_week["2007-07-02"] == (6, 8, 2.0, 4.0, 2.0, "rising")
    assert by_week["2007-06-25"][:1] == (2,)
    assert by_week["2007-05-07"] == (2, 8, 0.0, 2.0, None, "rising")
    assert rows[0][2] == 0 and rows[0][3] is None and rows[0][6] is None  # no earlier weeks: no trend
    weeks = [r[0] for r in rows]
    assert len(weeks) == len(set(weeks)) and all(r[1] >= 0 for r in rows)  # dense grid, zeros included
    assert sum(r[1] for r in rows) == 22


def test_suppression_four_versus_five(known):
    assert ind(known, "ibet", "CAN", "2007-08", "interdictions", "uscg")[:2] == (4, 4)
    assert ind(known, "evaluator", "CAN", "2007-08", "interdictions", "uscg") == (None, None, True)
    assert ind(known, "evaluator", "CAN", "2007-08", "interdictions", "cbsa") == (5, 5, False)
    # a share resting on 4 records is withheld as well; spending is not a count
    assert ind(known, "evaluator", "CAN", "2006-07", "interception_rate", "cbp")[2] is True
    assert ind(known, "evaluator", "CAN", "2006-07", "planned_spending_cad", "rcmp")[0] == 100000
    bad = q(known, "evaluator", "SELECT count(*) FROM mart_indicators WHERE (unit = 'count' AND value < 5) "
                                "OR basis_count < 5")
    assert bad == [(0,)]


def test_caveats_per_audience(known):
    def uids(audience):
        return {r[0] for r in q(known, audience, "SELECT source_id FROM fact_events")}
    ibet, can, usa = uids("ibet"), uids("can"), uids("usa")
    assert "CAN-ONLY" not in ibet and "USA-ONLY" not in ibet
    assert "CAN-ONLY" in can and "USA-ONLY" not in can
    assert "USA-ONLY" in usa and "CAN-ONLY" not in usa
    assert not any("ORCON" in u or u == "CASE-2" for u in ibet | can | usa)
    for audience, allowed in DOMAIN_CAVEATS.items():
        con = duckdb.connect(str(published_path(known, audience)), read_only=True)
        tables = con.execute("SELECT table_name FROM duckdb_columns() WHERE column_name = 'caveat'").fetchall()
        for (t,) in tables:
            seen = {r[0] for r in con.execute(f"SELECT DISTINCT caveat FROM {t}").fetchall()}
            assert seen <= set(allowed) - {"ORCON"}, (audience, t, seen)
        con.close()


def test_each_audience_counts_exactly_its_caveats_orcon_nowhere(known):
    """events_reported of one cell, in every file including the evaluator's aggregates, is the number of
    events whose caveat DOMAIN.md lets that audience see: an ORCON event is counted nowhere."""
    for agency, sent in EST_CELL.items():
        for audience, visible in DOMAIN_CAVEATS.items():
            expected = sum(c in visible for c in sent)
            got = ind(known, audience, "CAN", "2008-09", "events_reported", agency, "EST")
            assert got[:3] == (expected, expected, False), (agency, audience, got)
    # and the evaluator total over all partners for that year and region
    total = sum(c in DOMAIN_CAVEATS["evaluator"] for sent in EST_CELL.values() for c in sent)
    assert ind(known, "evaluator", "CAN", "2008-09", "events_reported", "ALL", "EST")[0] == total == 12


def test_latest_version_of_a_case_wins(known):
    rows = q(known, "usa", "SELECT arrests, status, versions, is_interdiction FROM fact_events "
                           "WHERE event_uid = 'ice:CASE-1'")
    assert rows == [(2, "CLOSED_ARREST", 2, True)]
    # its subjects are the latest version's, not every day's
    for audience in ("ibet", "usa"):
        keys = q(known, audience, "SELECT person_key FROM fact_subject_sightings WHERE event_uid = 'ice:CASE-1'")
        assert keys == [(NEW_SUBJECT,)], audience


def test_a_withheld_subject_of_a_shared_event_stays_out(known):
    for audience in ("ibet", "can", "usa"):
        keys = {k for (k,) in q(known, audience, "SELECT person_key FROM fact_subject_sightings "
                                                 "WHERE event_uid = 'rcmp:MIXED'")}
        assert keys == {SHARED_SUBJECT}, audience
    raw = b"".join(published_path(known, a).read_bytes() for a in DOMAIN_CAVEATS)
    assert WITHHELD_SUBJECT.encode() not in raw


def test_seizures_in_kg_and_cad_at_the_stated_rate(known):
    rows = q(known, "ibet", "SELECT commodity, quantity_kg, value_cad FROM mart_seizures WHERE fiscal_year_can = "
                            "'2006-07' ORDER BY commodity")
    assert rows == [("CANNABIS", 3.0, 300.0), ("COCAINE", 10.0, 1000.0), ("METH", 5.0, 1250.0)]
    assert ind(known, "ibet", "CAN", "2006-07", "seizure_value_cad")[0] == 2550.0
    assert ind(known, "ibet", "CAN", "2006-07", "seizure_kg")[0] == 18.0


def test_interception_rate_and_gotaways(known):
    assert ind(known, "ibet", "CAN", "2006-07", "interception_rate", "cbp")[:2] == (0.75, 4)
    assert ind(known, "ibet", "CAN", "2006-07", "gotaways", "cbp")[0] == 1
    assert ind(known, "ibet", "CAN", "2006-07", "interception_rate", "rcmp") is None


def test_cross_agency_links(known):
    rows = q(known, "ibet", "SELECT link_type, pseudonym, agencies, event_count, regions FROM mart_cross_agency_links "
                            "ORDER BY link_type")
    assert rows == [("person", PA, "cbp,rcmp", 2, "PAC,RRV"), ("plate", PLATE, "cbsa,uscg", 2, "NIA,PAC")]
    assert ind(known, "ibet", "CAN", "2006-07", "subjects_linked", "rcmp")[0] == 1
    assert ind(known, "ibet", "CAN", "2006-07", "subjects_linked", "ALL")[0] == 1


def test_joint_operations_and_hotspots(known):
    ops = q(known, "ibet", "SELECT operation_id, operation_kind, events, interdictions, seized_kg, seized_value_cad "
                           "FROM mart_joint_operations ORDER BY operation_id")
    assert ops == [("JOP-PAC-0001", "named joint operation", 2, 1, 3.0, 300.0),
                   ("uscg:U0", "ShipRider patrol", 1, 1, 0.0, 0.0)]
    assert ind(known, "ibet", "CAN", "2006-07", "joint_operations", "rcmp")[0] == 1
    cells = q(known, "ibet", "SELECT cell_id, category, events, rank_in_category FROM mart_hotspots ORDER BY category")
    assert cells == [("48.75,-123.00", "ALL", 2, 1), ("48.75,-123.00", "DRUGS", 2, 1)]


def test_sharing_latency(known):
    lat = dict(q(known, "ibet", "SELECT source_id, sharing_latency_hours FROM fact_events WHERE source_id IN "
                                "('J1', 'J2')"))
    assert lat == {"J1": 14.0, "J2": 12.0}
    rows = q(known, "ibet", "SELECT reports, median_latency_hours FROM mart_sharing_latency WHERE agency_code = 'rcmp' "
                            "AND region_code = 'PAC' AND month_start = '2006-11-01'")
    assert rows == [(2, 13.0)]


def test_spending_variance_cost_and_us_proration(known):
    assert ind(known, "ibet", "CAN", "2006-07", "actual_spending_cad", "cbp")[0] == 275000
    assert ind(known, "ibet", "CAN", "2006-07", "planned_spending_cad")[0] == 350000
    assert ind(known, "ibet", "CAN", "2006-07", "spending_variance_cad")[0] == 15000
    assert ind(known, "ibet", "CAN", "2006-07", "spending_variance_pct", "rcmp")[0] == -0.1
    # rcmp interdictions in 2006-07: S1 and J2; rcmp's events cover 2006-09-30..2007-03-31 of the year,
    # so the cost is the spending of those days only, not the whole year's over a part-year's interdictions
    covered = (dt.date(2007, 3, 31) - dt.date(2006, 9, 30)).days + 1
    assert ind(known, "ibet", "CAN", "2006-07", "cost_per_interdiction_cad", "rcmp")[:2] == (
        round(90000 * covered / 365 / 2, 2), 2)
    note = q(known, "ibet", "SELECT note, data_first_day, data_last_day FROM mart_indicators WHERE calendar = 'CAN' "
                            "AND fiscal_year = '2006-07' AND period = 'year' AND indicator = 'cost_per_interdiction_cad'"
                            " AND agency_code = 'rcmp'")[0]
    assert f"{covered} days" in note[0] and note[1:] == (dt.date(2006, 9, 30), dt.date(2007, 3, 31))
    # FY2007 holds 182 of the 365 days of 2006-07
    value = ind(known, "ibet", "USA", "FY2007", "planned_spending_cad", "rcmp")[0]
    assert value == round(100000 * 182 / 365, 2)
    row = q(known, "ibet", "SELECT note, coverage_share, data_first_day, data_last_day FROM mart_indicators WHERE "
                           "calendar = 'USA' AND fiscal_year = 'FY2007' AND period = 'year' AND "
                           "indicator = 'planned_spending_cad' AND agency_code = 'rcmp'")[0]
    assert "prorated" in row[0]
    assert row[1:] == (round(182 / 365, 4), dt.date(2006, 10, 1), dt.date(2007, 3, 31))  # what the year covers
    # the quarters of each calendar sum to its year
    quarters = q(known, "ibet", "SELECT sum(value) FROM mart_indicators WHERE calendar = 'USA' AND fiscal_year = "
                                "'FY2007' AND period <> 'year' AND indicator = 'planned_spending_cad' AND "
                                "agency_code = 'rcmp'")[0][0]
    assert quarters == pytest.approx(value, abs=0.02)


def test_outreach_and_radio(known):
    assert ind(known, "ibet", "CAN", "2006-07", "outreach_events", detail="ALL")[0] == 2
    assert ind(known, "ibet", "CAN", "2006-07", "outreach_attendance", detail="BORDER_WATCH")[0] == 40
    assert ind(known, "ibet", "CAN", "2006-07", "tips_received", detail="ALL")[0] == 4
    assert ind(known, "ibet", "CAN", "2006-07", "radio_tests_passed")[0] == 2
    assert ind(known, "ibet", "CAN", "2006-07", "radio_pass_rate")[0] == round(2 / 3, 4)
    # the evaluator file withholds all of these (fewer than 5 records each) but keeps spending
    assert ind(known, "evaluator", "CAN", "2006-07", "radio_tests")[2] is True
    # 6 tests (shown) of which 4 passed: a count below 5 is withheld even when it rests on 6 records
    assert ind(known, "ibet", "CAN", "2007-08", "radio_tests_passed", region="CMA")[:2] == (4, 6)
    assert ind(known, "evaluator", "CAN", "2007-08", "radio_tests", region="CMA") == (6, 6, False)
    assert ind(known, "evaluator", "CAN", "2007-08", "radio_tests_passed", region="CMA") == (None, None, True)
    # 5 of 6 passed: the count (5) and the basis (6) may show, the share may not (6 x share = the 1 failure)
    assert ind(known, "ibet", "CAN", "2009-10", "radio_pass_rate", region="CMA")[:2] == (round(5 / 6, 4), 6)
    assert ind(known, "evaluator", "CAN", "2009-10", "radio_pass_rate", region="CMA") == (None, None, True)


def test_evaluator_file_is_aggregate_only(known):
    con = duckdb.connect(str(published_path(known, "evaluator")), read_only=True)
    cols = {c for (c,) in con.execute("SELECT DISTINCT column_name FROM duckdb_columns()").fetchall()}
    tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    con.close()
    assert not cols & {"event_uid", "source_id", "person_key", "document_key", "plate_key", "vessel_key",
                       "anumber_key", "pseudonym", "latitude"}
    assert not any(t.startswith(("fact_events", "fact_s", "fact_c")) for t in tables)
    raw = published_path(known, "evaluator").read_bytes()
    assert PA.encode() not in raw and b"JOP-PAC-0001" not in raw


def test_every_table_and_column_is_commented(known):
    for audience in AUDIENCES:
        con = duckdb.connect(str(published_path(known, audience)), read_only=True)
        missing = con.execute("SELECT table_name FROM duckdb_tables() WHERE coalesce(comment, '') = ''").fetchall()
        missing += con.execute("SELECT table_name || '.' || column_name FROM duckdb_columns() "
                               "WHERE NOT internal AND coalesce(comment, '') = ''").fetchall()
        con.close()
        assert missing == [], (audience, missing)


def test_sql_files_are_in_dependency_order():
    """Every table a file reads is built by an earlier file (or the same one), or registered by Python."""
    defined: set[str] = set()
    create = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+)?(?:TABLE|VIEW|MACRO)\s+(\w+)", re.I)
    reads = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][\w.]*)\b(?!\s*\()", re.I)
    ctes = re.compile(r"(?:WITH|,)\s*(\w+)\s+AS\s*\(", re.I)
    for f in sql_files(AUDIENCE_LAYERS):
        text = re.sub(r"--[^\n]*", "", f.read_text())
        text = re.sub(r"'(?:[^']|'')*'", "''", text)
        local = set(ctes.findall(text)) | {"generate_series", "unnest", "bounds", "dates", "days"}
        used = {n for n in reads.findall(text) if "." not in n and n not in local and not n.startswith("src_")
                and n != "ibet_build_caveats"}
        unknown = used - defined - set(create.findall(text))
        assert not unknown, f"{f.parent.name}/{f.name} reads {sorted(unknown)} before they are built"
        defined |= set(create.findall(text))
    assert {"fact_events", "mart_indicators", "mart_dpr_horizontal"} <= defined

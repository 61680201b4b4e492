-- Program-level facts: spending, outreach, radio interoperability tests.
CREATE OR REPLACE TABLE fact_finance AS
SELECT f.fiscal_year AS fiscal_year_can, f.agency_code, f.planned_spending, f.actual_spending, f.currency,
       CASE f.currency WHEN 'CAD' THEN 1.0 WHEN 'USD' THEN fx.usd_to_cad END AS to_cad_rate,
       round(f.planned_spending * to_cad_rate, 2) AS planned_cad,
       round(f.actual_spending * to_cad_rate, 2) AS actual_cad,
       round(actual_cad - planned_cad, 2) AS variance_cad,
       round((actual_cad - planned_cad) / nullif(planned_cad, 0), 6) AS variance_pct,
       f.note, f.source_file
FROM stg_finance AS f
LEFT JOIN ref_fx_rates AS fx ON fx.fiscal_year = f.fiscal_year
ORDER BY fiscal_year_can, agency_code;
COMMENT ON TABLE fact_finance IS 'Planned and actual spending per partner and Canadian fiscal year (program finance files).';
COMMENT ON COLUMN fact_finance.fiscal_year_can IS 'Canadian fiscal year the figures are for.';
COMMENT ON COLUMN fact_finance.agency_code IS 'Partner agency.';
COMMENT ON COLUMN fact_finance.planned_spending IS 'Planned spending as reported, in currency.';
COMMENT ON COLUMN fact_finance.actual_spending IS 'Actual spending as reported, in currency.';
COMMENT ON COLUMN fact_finance.currency IS 'CAD or USD.';
COMMENT ON COLUMN fact_finance.to_cad_rate IS 'Rate applied to reach CAD (ref_fx_rates).';
COMMENT ON COLUMN fact_finance.planned_cad IS 'Planned spending in CAD.';
COMMENT ON COLUMN fact_finance.actual_cad IS 'Actual spending in CAD.';
COMMENT ON COLUMN fact_finance.variance_cad IS 'Actual minus planned, CAD (negative = under-spent).';
COMMENT ON COLUMN fact_finance.variance_pct IS 'Variance as a share of planned spending.';
COMMENT ON COLUMN fact_finance.note IS 'Note sent with the figures (e.g. amounts allocated to INSET).';
COMMENT ON COLUMN fact_finance.source_file IS 'Finance file the figures came from.';

CREATE OR REPLACE TABLE fact_outreach AS
SELECT event_id, event_date, fy_can(event_date) AS fiscal_year_can, fy_us(event_date) AS fiscal_year_us,
       region_code, program, attendees, tips_received
FROM stg_outreach
ORDER BY event_date, event_id;
COMMENT ON TABLE fact_outreach IS 'One row per outreach event (Border Watch, Inn Touch, Coastal/Airport Watch).';
COMMENT ON COLUMN fact_outreach.event_id IS 'Outreach event id.';
COMMENT ON COLUMN fact_outreach.event_date IS 'Date of the event.';
COMMENT ON COLUMN fact_outreach.fiscal_year_can IS 'Canadian fiscal year.';
COMMENT ON COLUMN fact_outreach.fiscal_year_us IS 'US fiscal year.';
COMMENT ON COLUMN fact_outreach.region_code IS 'IBET region.';
COMMENT ON COLUMN fact_outreach.program IS 'BORDER_WATCH, INN_TOUCH, COASTAL_WATCH or AIRPORT_WATCH.';
COMMENT ON COLUMN fact_outreach.attendees IS 'People who attended.';
COMMENT ON COLUMN fact_outreach.tips_received IS 'Tips received from the public after the event.';

CREATE OR REPLACE TABLE fact_radio_tests AS
SELECT test_id, test_date, fy_can(test_date) AS fiscal_year_can, fy_us(test_date) AS fiscal_year_us,
       region_code, agencies, agency_count, cross_border, success
FROM stg_radio_tests
ORDER BY test_date, test_id;
COMMENT ON TABLE fact_radio_tests IS 'One row per cross-border radio interoperability field test.';
COMMENT ON COLUMN fact_radio_tests.test_id IS 'Test id.';
COMMENT ON COLUMN fact_radio_tests.test_date IS 'Date of the test.';
COMMENT ON COLUMN fact_radio_tests.fiscal_year_can IS 'Canadian fiscal year.';
COMMENT ON COLUMN fact_radio_tests.fiscal_year_us IS 'US fiscal year.';
COMMENT ON COLUMN fact_radio_tests.region_code IS 'IBET region.';
COMMENT ON COLUMN fact_radio_tests.agencies IS 'Agencies taking part, separated by semicolons.';
COMMENT ON COLUMN fact_radio_tests.agency_count IS 'Number of agencies taking part.';
COMMENT ON COLUMN fact_radio_tests.cross_border IS 'True when both Canadian and US agencies took part.';
COMMENT ON COLUMN fact_radio_tests.success IS 'True when the test passed.';

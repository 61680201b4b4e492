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

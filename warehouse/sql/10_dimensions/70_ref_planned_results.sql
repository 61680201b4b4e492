CREATE OR REPLACE TABLE ref_planned_results AS
SELECT fiscal_year, agency AS agency_code, planned_results FROM src_planned_results;
COMMENT ON TABLE ref_planned_results IS 'Planned results per partner and Canadian fiscal year, as published in the horizontal-initiative table.';
COMMENT ON COLUMN ref_planned_results.fiscal_year IS 'Canadian fiscal year the results were planned for.';
COMMENT ON COLUMN ref_planned_results.agency_code IS 'Partner agency.';
COMMENT ON COLUMN ref_planned_results.planned_results IS 'Planned results in words.';

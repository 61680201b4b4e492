-- The evaluator file: aggregates only, read from the full (all shareable caveats) build
-- attached as `work`. Any count below the threshold, and any value resting on fewer
-- records than the threshold, is withheld (null) and flagged. No event-level or
-- person-level table, and no pseudonym, is copied.
CREATE OR REPLACE TABLE dim_region AS SELECT * FROM work.dim_region;
CREATE OR REPLACE TABLE dim_agency AS SELECT * FROM work.dim_agency;
CREATE OR REPLACE TABLE dim_category AS SELECT * FROM work.dim_category;
CREATE OR REPLACE TABLE dim_fiscal_year AS SELECT * FROM work.dim_fiscal_year;
CREATE OR REPLACE TABLE dim_indicator AS SELECT * FROM work.dim_indicator;
CREATE OR REPLACE TABLE ref_fx_rates AS SELECT * FROM work.ref_fx_rates;
CREATE OR REPLACE TABLE ref_program AS SELECT * FROM work.ref_program;
CREATE OR REPLACE TABLE ref_planned_results AS SELECT * FROM work.ref_planned_results;
CREATE OR REPLACE TABLE fact_finance AS SELECT * FROM work.fact_finance;

CREATE OR REPLACE TABLE mart_indicators AS
SELECT calendar, fiscal_year, agency_code, region_code, indicator, detail,
       CASE WHEN hidden THEN NULL ELSE value END AS value, unit,
       CASE WHEN hidden THEN NULL ELSE basis_count END AS basis_count,
       hidden AS suppressed, note
FROM (
    SELECT *, coalesce(basis_count < ibet_suppression_threshold(), FALSE)
              OR (unit = 'count' AND value < ibet_suppression_threshold()) AS hidden
    FROM work.mart_indicators
)
ORDER BY calendar, fiscal_year, indicator, detail, agency_code, region_code;
COMMENT ON COLUMN mart_indicators.suppressed IS 'True when the value was withheld: a count below the threshold, or a value resting on fewer records than the threshold.';

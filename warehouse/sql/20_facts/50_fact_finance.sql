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

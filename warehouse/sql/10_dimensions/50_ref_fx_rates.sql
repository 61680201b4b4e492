CREATE OR REPLACE TABLE ref_fx_rates AS
SELECT fiscal_year, usd_to_cad, source FROM src_fx_rates;
COMMENT ON TABLE ref_fx_rates IS 'The one stated USD to CAD rate per Canadian fiscal year used for every conversion.';
COMMENT ON COLUMN ref_fx_rates.fiscal_year IS 'Canadian fiscal year, e.g. 2006-07.';
COMMENT ON COLUMN ref_fx_rates.usd_to_cad IS 'CAD per USD applied to every USD amount dated in that fiscal year.';
COMMENT ON COLUMN ref_fx_rates.source IS 'Where the rate comes from.';

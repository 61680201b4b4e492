CREATE OR REPLACE TABLE dim_commodity AS
SELECT commodity, category, measured_in FROM src_commodities;
COMMENT ON TABLE dim_commodity IS 'Seized commodities and the threat category each belongs to.';
COMMENT ON COLUMN dim_commodity.commodity IS 'Commodity code (MARIJUANA is reported as CANNABIS).';
COMMENT ON COLUMN dim_commodity.category IS 'Threat category of the commodity.';
COMMENT ON COLUMN dim_commodity.measured_in IS 'kg for weighed goods, units for counted goods (firearms), value for currency.';

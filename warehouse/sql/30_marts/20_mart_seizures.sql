-- Seizures by commodity, in kg and CAD at the stated rate of each fiscal year.
CREATE OR REPLACE TABLE mart_seizures AS
SELECT fiscal_year_can, fiscal_year_us, CAST(date_trunc('month', event_date) AS DATE) AS month_start,
       agency_code, region_code, commodity, category,
       count(*) AS seizure_lines, count(DISTINCT event_uid) AS events,
       round(sum(quantity_kg), 3) AS quantity_kg, sum(quantity_units) AS quantity_units,
       round(sum(value_cad), 2) AS value_cad,
       count(*) FILTER (WHERE value_original IS NOT NULL AND value_cad IS NULL) AS lines_without_rate
FROM fact_seizures
GROUP BY ALL
ORDER BY month_start, agency_code, region_code, commodity;
COMMENT ON TABLE mart_seizures IS 'Seizures per month x agency x region x commodity: kg, units and CAD.';
COMMENT ON COLUMN mart_seizures.fiscal_year_can IS 'Canadian fiscal year.';
COMMENT ON COLUMN mart_seizures.fiscal_year_us IS 'US fiscal year.';
COMMENT ON COLUMN mart_seizures.month_start IS 'First day of the month.';
COMMENT ON COLUMN mart_seizures.agency_code IS 'Seizing agency.';
COMMENT ON COLUMN mart_seizures.region_code IS 'IBET region.';
COMMENT ON COLUMN mart_seizures.commodity IS 'Commodity.';
COMMENT ON COLUMN mart_seizures.category IS 'Threat category.';
COMMENT ON COLUMN mart_seizures.seizure_lines IS 'Goods lines seized.';
COMMENT ON COLUMN mart_seizures.events IS 'Events with at least one such line.';
COMMENT ON COLUMN mart_seizures.quantity_kg IS 'Total mass, kg.';
COMMENT ON COLUMN mart_seizures.quantity_units IS 'Total items for counted goods.';
COMMENT ON COLUMN mart_seizures.value_cad IS 'Total value in CAD at the stated rate per fiscal year (ref_fx_rates).';
COMMENT ON COLUMN mart_seizures.lines_without_rate IS 'Lines with a value that could not be converted (no rate stated for the year).';

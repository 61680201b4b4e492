-- Dimensions from reference data (ibet/data, overridable in IBET_HOME/reference).

CREATE OR REPLACE TABLE dim_region AS
SELECT region_code, region_name, min_lon, max_lon, min_lat, max_lat, maritime, FALSE AS is_unknown
FROM src_regions
UNION ALL
SELECT 'UNK', 'Unknown (no usable coordinates, and no unit that lies in one region)',
       NULL, NULL, NULL, NULL, NULL, TRUE;
COMMENT ON TABLE dim_region IS 'The 15 IBET regions as reference boxes (approximate, not official boundaries), plus UNK.';
COMMENT ON COLUMN dim_region.region_code IS 'Region code used by every fact and mart.';
COMMENT ON COLUMN dim_region.region_name IS 'Region name.';
COMMENT ON COLUMN dim_region.min_lon IS 'Western edge of the reference box, decimal degrees.';
COMMENT ON COLUMN dim_region.max_lon IS 'Eastern edge of the reference box, decimal degrees.';
COMMENT ON COLUMN dim_region.min_lat IS 'Southern edge of the reference box, decimal degrees.';
COMMENT ON COLUMN dim_region.max_lat IS 'Northern edge of the reference box, decimal degrees.';
COMMENT ON COLUMN dim_region.maritime IS 'True when the region includes shared waters.';
COMMENT ON COLUMN dim_region.is_unknown IS 'True only for UNK: events whose region could not be determined.';

CREATE OR REPLACE TABLE dim_agency AS
SELECT agency_code, agency_name, country, reports, fiscal_calendar FROM src_agencies;
COMMENT ON TABLE dim_agency IS 'Partner agencies (and the program office) from the agency registry.';
COMMENT ON COLUMN dim_agency.agency_code IS 'Agency code (rcmp, cbsa, cbp, ice, uscg, program).';
COMMENT ON COLUMN dim_agency.agency_name IS 'Agency name.';
COMMENT ON COLUMN dim_agency.country IS 'CAN or USA; empty for program-level data.';
COMMENT ON COLUMN dim_agency.reports IS 'What the agency reports to the warehouse.';
COMMENT ON COLUMN dim_agency.fiscal_calendar IS 'Fiscal calendar the agency reports in: CAN (April-March) or USA (October-September).';

CREATE OR REPLACE TABLE dim_category AS
SELECT category, label, description FROM src_categories;
COMMENT ON TABLE dim_category IS 'The one threat taxonomy every agency''s codes are mapped to.';
COMMENT ON COLUMN dim_category.category IS 'Threat category code.';
COMMENT ON COLUMN dim_category.label IS 'Readable label.';
COMMENT ON COLUMN dim_category.description IS 'Which agency codes map here.';

CREATE OR REPLACE TABLE dim_commodity AS
SELECT commodity, category, measured_in FROM src_commodities;
COMMENT ON TABLE dim_commodity IS 'Seized commodities and the threat category each belongs to.';
COMMENT ON COLUMN dim_commodity.commodity IS 'Commodity code (MARIJUANA is reported as CANNABIS).';
COMMENT ON COLUMN dim_commodity.category IS 'Threat category of the commodity.';
COMMENT ON COLUMN dim_commodity.measured_in IS 'kg for weighed goods, units for counted goods (firearms), value for currency.';

CREATE OR REPLACE TABLE ref_fx_rates AS
SELECT fiscal_year, usd_to_cad, source FROM src_fx_rates;
COMMENT ON TABLE ref_fx_rates IS 'The one stated USD to CAD rate per Canadian fiscal year used for every conversion.';
COMMENT ON COLUMN ref_fx_rates.fiscal_year IS 'Canadian fiscal year, e.g. 2006-07.';
COMMENT ON COLUMN ref_fx_rates.usd_to_cad IS 'CAD per USD applied to every USD amount dated in that fiscal year.';
COMMENT ON COLUMN ref_fx_rates.source IS 'Where the rate comes from.';

CREATE OR REPLACE TABLE ref_program AS
SELECT program, lead_department, total_allocation_cad, allocation_start, allocation_end,
       date_diff('year', allocation_start, allocation_end + INTERVAL 1 DAY) AS allocation_years, source
FROM src_program;
COMMENT ON TABLE ref_program IS 'The horizontal initiative as published: total allocation and its period.';
COMMENT ON COLUMN ref_program.program IS 'Program name.';
COMMENT ON COLUMN ref_program.lead_department IS 'Lead department.';
COMMENT ON COLUMN ref_program.total_allocation_cad IS 'Total federal allocation over the period, CAD.';
COMMENT ON COLUMN ref_program.allocation_start IS 'First day of the allocation period.';
COMMENT ON COLUMN ref_program.allocation_end IS 'Last day of the allocation period.';
COMMENT ON COLUMN ref_program.allocation_years IS 'Length of the allocation period in years.';
COMMENT ON COLUMN ref_program.source IS 'Published source of the figures.';

CREATE OR REPLACE TABLE ref_planned_results AS
SELECT fiscal_year, agency AS agency_code, planned_results FROM src_planned_results;
COMMENT ON TABLE ref_planned_results IS 'Planned results per partner and Canadian fiscal year, as published in the horizontal-initiative table.';
COMMENT ON COLUMN ref_planned_results.fiscal_year IS 'Canadian fiscal year the results were planned for.';
COMMENT ON COLUMN ref_planned_results.agency_code IS 'Partner agency.';
COMMENT ON COLUMN ref_planned_results.planned_results IS 'Planned results in words.';

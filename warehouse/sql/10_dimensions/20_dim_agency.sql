CREATE OR REPLACE TABLE dim_agency AS
SELECT agency_code, agency_name, country, reports, fiscal_calendar FROM src_agencies;
COMMENT ON TABLE dim_agency IS 'Partner agencies (and the program office) from the agency registry.';
COMMENT ON COLUMN dim_agency.agency_code IS 'Agency code (rcmp, cbsa, cbp, ice, uscg, program).';
COMMENT ON COLUMN dim_agency.agency_name IS 'Agency name.';
COMMENT ON COLUMN dim_agency.country IS 'CAN or USA; empty for program-level data.';
COMMENT ON COLUMN dim_agency.reports IS 'What the agency reports to the warehouse.';
COMMENT ON COLUMN dim_agency.fiscal_calendar IS 'Fiscal calendar the agency reports in: CAN (April-March) or USA (October-September).';

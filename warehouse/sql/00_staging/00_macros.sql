-- Calendar helpers used by every later layer (temporary: they are not published).
-- Canada's fiscal year runs April 1 - March 31 and is labelled '2006-07';
-- the US federal fiscal year runs October 1 - September 30 and is labelled 'FY2007'.
-- The first month of each calendar comes from foundation/vocabulary.py (ibet_fy_start_can/us, registered by the build).
CREATE OR REPLACE TEMP MACRO fy_can_start_year(d) AS year(d) - CASE WHEN month(d) < ibet_fy_start_can() THEN 1 ELSE 0 END;
CREATE OR REPLACE TEMP MACRO fy_can(d) AS
    CAST(fy_can_start_year(d) AS VARCHAR) || '-' || lpad(CAST((fy_can_start_year(d) + 1) % 100 AS VARCHAR), 2, '0');
CREATE OR REPLACE TEMP MACRO fq_can(d) AS 'Q' || CAST(((month(d) - ibet_fy_start_can() + 12) % 12) // 3 + 1 AS VARCHAR);
CREATE OR REPLACE TEMP MACRO fy_us_end_year(d) AS year(d) + CASE WHEN month(d) >= ibet_fy_start_us() THEN 1 ELSE 0 END;
CREATE OR REPLACE TEMP MACRO fy_us(d) AS 'FY' || CAST(fy_us_end_year(d) AS VARCHAR);
CREATE OR REPLACE TEMP MACRO fq_us(d) AS 'Q' || CAST(((month(d) - ibet_fy_start_us() + 12) % 12) // 3 + 1 AS VARCHAR);
-- First and last day of the fiscal years (either calendar) a date falls in.
CREATE OR REPLACE TEMP MACRO fy_can_first(d) AS make_date(fy_can_start_year(d), ibet_fy_start_can(), 1);
CREATE OR REPLACE TEMP MACRO fy_can_last(d) AS CAST(make_date(fy_can_start_year(d) + 1, ibet_fy_start_can(), 1) - INTERVAL 1 DAY AS DATE);
CREATE OR REPLACE TEMP MACRO fy_us_first(d) AS make_date(fy_us_end_year(d) - 1, ibet_fy_start_us(), 1);
CREATE OR REPLACE TEMP MACRO fy_us_last(d) AS CAST(make_date(fy_us_end_year(d), ibet_fy_start_us(), 1) - INTERVAL 1 DAY AS DATE);
-- A value is visible to this build's audience when its caveat is in ibet_build_caveats.
CREATE OR REPLACE TEMP MACRO visible(record_caveat) AS record_caveat IN (SELECT caveat FROM ibet_build_caveats);

CREATE OR REPLACE TABLE dim_fiscal_year AS
SELECT 'CAN' AS calendar, fiscal_year_can AS fiscal_year, fy_can_first(min(date_key)) AS start_date,
       fy_can_last(min(date_key)) AS end_date, date_diff('day', start_date, end_date) + 1 AS days,
       count(*) = days AS complete
FROM dim_date GROUP BY fiscal_year_can
UNION ALL
SELECT 'USA', fiscal_year_us, fy_us_first(min(date_key)), fy_us_last(min(date_key)),
       date_diff('day', fy_us_first(min(date_key)), fy_us_last(min(date_key))) + 1, count(*) = date_diff('day', fy_us_first(min(date_key)), fy_us_last(min(date_key))) + 1
FROM dim_date GROUP BY fiscal_year_us
ORDER BY calendar, fiscal_year;
COMMENT ON TABLE dim_fiscal_year IS 'Fiscal years of both calendars covered by dim_date.';
COMMENT ON COLUMN dim_fiscal_year.calendar IS 'CAN (April-March, labelled 2006-07) or USA (October-September, labelled FY2007).';
COMMENT ON COLUMN dim_fiscal_year.fiscal_year IS 'Fiscal-year label.';
COMMENT ON COLUMN dim_fiscal_year.start_date IS 'First day of the fiscal year.';
COMMENT ON COLUMN dim_fiscal_year.end_date IS 'Last day of the fiscal year.';
COMMENT ON COLUMN dim_fiscal_year.days IS 'Days in the fiscal year.';
COMMENT ON COLUMN dim_fiscal_year.complete IS 'True when dim_date holds every day of the year (the two calendars are six months apart, so the first or last year of one calendar can be partial).';

-- Date dimension with both fiscal calendars. It spans the whole fiscal years (of both
-- calendars) of every date the facts and the finance files mention; the calendars are
-- six months apart, so an edge year of one calendar may be partial (see `complete`).
CREATE OR REPLACE TABLE dim_date AS
WITH dates AS (
    -- the visible events' dates: each event's latest version, as staging keeps it (its date and caveat),
    -- without reading the events themselves
    SELECT event_date AS d FROM staged.stg_latest WHERE visible(caveat)
    UNION ALL SELECT event_date FROM stg_outreach
    UNION ALL SELECT test_date FROM stg_radio_tests
    UNION ALL SELECT make_date(CAST(left(fiscal_year, 4) AS INTEGER), 4, 1) FROM stg_finance
    UNION ALL SELECT make_date(CAST(left(fiscal_year, 4) AS INTEGER) + 1, 3, 31) FROM stg_finance
),
bounds AS (
    SELECT least(fy_can_first(min(d)), fy_us_first(min(d))) AS lo,
           greatest(fy_can_last(max(d)), fy_us_last(max(d))) AS hi
    FROM dates
),
days AS (
    SELECT CAST(g.generate_series AS DATE) AS date_key
    FROM bounds, generate_series(bounds.lo, bounds.hi, INTERVAL 1 DAY) AS g
)
SELECT date_key, year(date_key) AS year, month(date_key) AS month, day(date_key) AS day,
       isodow(date_key) AS iso_day_of_week, isoyear(date_key) AS iso_year, week(date_key) AS iso_week,
       CAST(date_trunc('week', date_key) AS DATE) AS week_start, CAST(date_trunc('month', date_key) AS DATE) AS month_start,
       fy_can(date_key) AS fiscal_year_can, fq_can(date_key) AS fiscal_quarter_can,
       fy_us(date_key) AS fiscal_year_us, fq_us(date_key) AS fiscal_quarter_us
FROM days
ORDER BY date_key;
COMMENT ON TABLE dim_date IS 'One row per day, with ISO weeks and both fiscal calendars (Canada April-March, US October-September).';
COMMENT ON COLUMN dim_date.date_key IS 'The day (UTC date of the event).';
COMMENT ON COLUMN dim_date.year IS 'Calendar year.';
COMMENT ON COLUMN dim_date.month IS 'Calendar month 1-12.';
COMMENT ON COLUMN dim_date.day IS 'Day of month.';
COMMENT ON COLUMN dim_date.iso_day_of_week IS 'ISO day of week, 1 = Monday.';
COMMENT ON COLUMN dim_date.iso_year IS 'ISO week-numbering year.';
COMMENT ON COLUMN dim_date.iso_week IS 'ISO week number 1-53.';
COMMENT ON COLUMN dim_date.week_start IS 'Monday of the ISO week.';
COMMENT ON COLUMN dim_date.month_start IS 'First day of the month.';
COMMENT ON COLUMN dim_date.fiscal_year_can IS 'Canadian fiscal year (April 1 - March 31), e.g. 2006-07.';
COMMENT ON COLUMN dim_date.fiscal_quarter_can IS 'Canadian fiscal quarter: Q1 = April-June.';
COMMENT ON COLUMN dim_date.fiscal_year_us IS 'US federal fiscal year (October 1 - September 30), e.g. FY2007.';
COMMENT ON COLUMN dim_date.fiscal_quarter_us IS 'US fiscal quarter: Q1 = October-December.';

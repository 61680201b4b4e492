-- Where and when is activity rising? Events per region x ISO week x category, on a dense
-- weekly grid (weeks with no events count as 0), compared with the mean of the 8 weeks
-- before. The trailing mean is null until 8 earlier weeks exist in the data: a trend
-- against fewer weeks would be noise presented as signal.
CREATE OR REPLACE TABLE mart_activity_weekly AS
WITH weekly AS (
    SELECT CAST(date_trunc('week', event_date) AS DATE) AS week_start, region_code, category,
           count(*) AS events, count(*) FILTER (WHERE is_interdiction) AS interdictions
    FROM fact_events GROUP BY ALL
),
weeks AS (
    SELECT CAST(g.generate_series AS DATE) AS week_start
    FROM (SELECT min(week_start) AS lo, max(week_start) AS hi FROM weekly) AS b,
         generate_series(b.lo, b.hi, INTERVAL 7 DAY) AS g
),
series AS (SELECT DISTINCT region_code, category FROM weekly),
grid AS (
    SELECT w.week_start, s.region_code, s.category,
           coalesce(x.events, 0) AS events, coalesce(x.interdictions, 0) AS interdictions
    FROM weeks AS w CROSS JOIN series AS s
    LEFT JOIN weekly AS x USING (week_start, region_code, category)
),
windowed AS (
    SELECT *, sum(events) OVER w8 AS trailing_sum, count(*) OVER w8 AS trailing_weeks
    FROM grid
    WINDOW w8 AS (PARTITION BY region_code, category ORDER BY week_start ROWS BETWEEN 8 PRECEDING AND 1 PRECEDING)
)
SELECT week_start, isoyear(week_start) AS iso_year, week(week_start) AS iso_week, region_code, category,
       events, interdictions, trailing_weeks,
       CASE WHEN trailing_weeks = 8 THEN trailing_sum / 8.0 END AS trailing_8wk_mean,
       events - trailing_8wk_mean AS change_vs_trailing,
       CASE WHEN trailing_8wk_mean > 0 THEN round(events / trailing_8wk_mean - 1, 4) END AS pct_change_vs_trailing,
       CASE WHEN trailing_8wk_mean IS NULL THEN NULL
            WHEN events > trailing_8wk_mean THEN 'rising'
            WHEN events < trailing_8wk_mean THEN 'falling'
            ELSE 'steady' END AS trend
FROM windowed
ORDER BY week_start, region_code, category;
COMMENT ON TABLE mart_activity_weekly IS 'Events per region x ISO week x category with the change against the trailing 8 weeks.';
COMMENT ON COLUMN mart_activity_weekly.week_start IS 'Monday of the ISO week (UTC dates).';
COMMENT ON COLUMN mart_activity_weekly.iso_year IS 'ISO week-numbering year.';
COMMENT ON COLUMN mart_activity_weekly.iso_week IS 'ISO week number.';
COMMENT ON COLUMN mart_activity_weekly.region_code IS 'IBET region.';
COMMENT ON COLUMN mart_activity_weekly.category IS 'Threat category.';
COMMENT ON COLUMN mart_activity_weekly.events IS 'Events that week (0 when none).';
COMMENT ON COLUMN mart_activity_weekly.interdictions IS 'Events that week that were interdictions.';
COMMENT ON COLUMN mart_activity_weekly.trailing_weeks IS 'How many earlier weeks the trailing window holds (8 when complete).';
COMMENT ON COLUMN mart_activity_weekly.trailing_8wk_mean IS 'Mean weekly events over the 8 weeks before; null until 8 earlier weeks exist.';
COMMENT ON COLUMN mart_activity_weekly.change_vs_trailing IS 'events minus trailing_8wk_mean.';
COMMENT ON COLUMN mart_activity_weekly.pct_change_vs_trailing IS 'events / trailing_8wk_mean - 1 (0.5 = 50 % above the trailing mean).';
COMMENT ON COLUMN mart_activity_weekly.trend IS 'rising, falling or steady against the trailing mean; null without 8 earlier weeks.';

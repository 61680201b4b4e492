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

-- How intelligence-led is the enforcement? Share of events from intelligence, among
-- events whose agency says (only RCMP reports intel_led; others have no share).
CREATE OR REPLACE TABLE mart_intel_led AS
SELECT fiscal_year_can, fiscal_year_us, CAST(date_trunc('month', event_date) AS DATE) AS month_start,
       agency_code, region_code,
       count(*) AS events, count(intel_led) AS events_with_intel_flag,
       count(*) FILTER (WHERE intel_led) AS intel_led_events,
       round(intel_led_events / nullif(events_with_intel_flag, 0), 4) AS intel_led_share
FROM fact_events
GROUP BY ALL
ORDER BY month_start, agency_code, region_code;
COMMENT ON TABLE mart_intel_led IS 'Intelligence-led share of events per month x agency x region.';
COMMENT ON COLUMN mart_intel_led.fiscal_year_can IS 'Canadian fiscal year.';
COMMENT ON COLUMN mart_intel_led.fiscal_year_us IS 'US fiscal year.';
COMMENT ON COLUMN mart_intel_led.month_start IS 'First day of the month.';
COMMENT ON COLUMN mart_intel_led.agency_code IS 'Reporting agency.';
COMMENT ON COLUMN mart_intel_led.region_code IS 'IBET region.';
COMMENT ON COLUMN mart_intel_led.events IS 'Events reported.';
COMMENT ON COLUMN mart_intel_led.events_with_intel_flag IS 'Events whose agency said whether they were intelligence-led.';
COMMENT ON COLUMN mart_intel_led.intel_led_events IS 'Events that came from intelligence.';
COMMENT ON COLUMN mart_intel_led.intel_led_share IS 'intel_led_events / events_with_intel_flag; null when the agency does not report it.';

-- How long does a report take from the event to the shared warehouse?
CREATE OR REPLACE TABLE mart_sharing_latency AS
SELECT fiscal_year_can, fiscal_year_us, CAST(date_trunc('month', event_date) AS DATE) AS month_start,
       agency_code, region_code,
       count(*) AS reports, count(sharing_latency_hours) AS reports_with_receipt,
       round(median(sharing_latency_hours), 2) AS median_latency_hours,
       round(quantile_cont(sharing_latency_hours, 0.9), 2) AS p90_latency_hours,
       round(max(sharing_latency_hours), 2) AS max_latency_hours
FROM fact_events
GROUP BY ALL
ORDER BY month_start, agency_code, region_code;
COMMENT ON TABLE mart_sharing_latency IS 'Reports shared and the time from event to warehouse, per month x agency x region.';
COMMENT ON COLUMN mart_sharing_latency.fiscal_year_can IS 'Canadian fiscal year.';
COMMENT ON COLUMN mart_sharing_latency.fiscal_year_us IS 'US fiscal year.';
COMMENT ON COLUMN mart_sharing_latency.month_start IS 'First day of the month of the event.';
COMMENT ON COLUMN mart_sharing_latency.agency_code IS 'Reporting agency.';
COMMENT ON COLUMN mart_sharing_latency.region_code IS 'IBET region.';
COMMENT ON COLUMN mart_sharing_latency.reports IS 'Reports (events) shared.';
COMMENT ON COLUMN mart_sharing_latency.reports_with_receipt IS 'Reports whose arrival time is known.';
COMMENT ON COLUMN mart_sharing_latency.median_latency_hours IS 'Median hours from event to warehouse.';
COMMENT ON COLUMN mart_sharing_latency.p90_latency_hours IS '90th percentile of hours from event to warehouse.';
COMMENT ON COLUMN mart_sharing_latency.max_latency_hours IS 'Longest hours from event to warehouse.';

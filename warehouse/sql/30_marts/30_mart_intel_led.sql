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

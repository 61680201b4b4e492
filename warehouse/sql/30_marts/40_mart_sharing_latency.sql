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

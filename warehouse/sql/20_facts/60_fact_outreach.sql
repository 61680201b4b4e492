CREATE OR REPLACE TABLE fact_outreach AS
SELECT event_id, event_date, fy_can(event_date) AS fiscal_year_can, fy_us(event_date) AS fiscal_year_us,
       region_code, program, attendees, tips_received
FROM stg_outreach
ORDER BY event_date, event_id;
COMMENT ON TABLE fact_outreach IS 'One row per outreach event (Border Watch, Inn Touch, Coastal/Airport Watch).';
COMMENT ON COLUMN fact_outreach.event_id IS 'Outreach event id.';
COMMENT ON COLUMN fact_outreach.event_date IS 'Date of the event.';
COMMENT ON COLUMN fact_outreach.fiscal_year_can IS 'Canadian fiscal year.';
COMMENT ON COLUMN fact_outreach.fiscal_year_us IS 'US fiscal year.';
COMMENT ON COLUMN fact_outreach.region_code IS 'IBET region.';
COMMENT ON COLUMN fact_outreach.program IS 'BORDER_WATCH, INN_TOUCH, COASTAL_WATCH or AIRPORT_WATCH.';
COMMENT ON COLUMN fact_outreach.attendees IS 'People who attended.';
COMMENT ON COLUMN fact_outreach.tips_received IS 'Tips received from the public after the event.';

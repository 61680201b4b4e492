-- One row per event (latest version), the grain of every activity mart.
CREATE OR REPLACE TABLE fact_events AS
SELECT event_uid, agency AS agency_code, source_id, occurred_at, event_date,
       fy_can(event_date) AS fiscal_year_can, fy_us(event_date) AS fiscal_year_us,
       region_code, region_source, latitude, longitude, in_ibet_area,
       category, action, is_interdiction, intel_led, joint_operation_id, is_joint,
       coalesce(joint_operation_id, CASE WHEN is_joint THEN event_uid END) AS joint_operation_key,
       reporting_unit, persons_count, arrests, status, caveat,
       extract_date, versions, received_at,
       round(date_diff('second', occurred_at, received_at) / 3600.0, 3) AS sharing_latency_hours,
       source_file, source_row
FROM stg_events
ORDER BY event_date, event_uid;
COMMENT ON TABLE fact_events IS 'One row per reported event (the latest version of each), all agencies, this audience''s caveats only.';
COMMENT ON COLUMN fact_events.event_uid IS 'Warehouse-wide event id: agency code, colon, the agency''s own id.';
COMMENT ON COLUMN fact_events.agency_code IS 'Reporting agency.';
COMMENT ON COLUMN fact_events.source_id IS 'The agency''s own id of the event (occurrence, event, case or interdiction number).';
COMMENT ON COLUMN fact_events.occurred_at IS 'When it happened, UTC (ICE: time of the case update).';
COMMENT ON COLUMN fact_events.event_date IS 'UTC date of occurred_at; the date every calendar and fiscal year is derived from.';
COMMENT ON COLUMN fact_events.fiscal_year_can IS 'Canadian fiscal year of event_date.';
COMMENT ON COLUMN fact_events.fiscal_year_us IS 'US fiscal year of event_date.';
COMMENT ON COLUMN fact_events.region_code IS 'IBET region (see dim_region); UNK when unknown.';
COMMENT ON COLUMN fact_events.region_source IS 'How the region was found: coordinates, reported, unit or unknown.';
COMMENT ON COLUMN fact_events.latitude IS 'Decimal degrees, WGS84; null when not reported.';
COMMENT ON COLUMN fact_events.longitude IS 'Decimal degrees, WGS84; null when not reported.';
COMMENT ON COLUMN fact_events.in_ibet_area IS 'True when the coordinates fall inside a region box.';
COMMENT ON COLUMN fact_events.category IS 'Threat category (dim_category).';
COMMENT ON COLUMN fact_events.action IS 'What was done: OCCURRENCE, SEIZURE, ARREST, APPREHENSION, REFUSAL, REFERRAL, GOTAWAY, BOARDING, WARNING, INVESTIGATION.';
COMMENT ON COLUMN fact_events.is_interdiction IS 'True when persons or goods were intercepted (seizure, arrest, apprehension, closed-by-arrest case).';
COMMENT ON COLUMN fact_events.intel_led IS 'True when the event came from intelligence rather than patrol; null when the agency does not say (only RCMP reports it).';
COMMENT ON COLUMN fact_events.joint_operation_id IS 'Named joint operation, when reported (RCMP).';
COMMENT ON COLUMN fact_events.is_joint IS 'True for joint work: a named joint operation, a ShipRider patrol, a BEST or multi-partner ICE case.';
COMMENT ON COLUMN fact_events.joint_operation_key IS 'The joint operation the event belongs to: joint_operation_id, else the event itself when it is joint.';
COMMENT ON COLUMN fact_events.reporting_unit IS 'Detachment, office, station, district or team that reported it.';
COMMENT ON COLUMN fact_events.persons_count IS 'Persons involved (group size for apprehensions).';
COMMENT ON COLUMN fact_events.arrests IS 'Persons arrested or apprehended.';
COMMENT ON COLUMN fact_events.status IS 'Case status (ICE).';
COMMENT ON COLUMN fact_events.caveat IS 'Releasability: REL_IBET, REL_CAN or REL_USA (ORCON is never published).';
COMMENT ON COLUMN fact_events.extract_date IS 'Date of the extract that delivered this version.';
COMMENT ON COLUMN fact_events.versions IS 'How many extracts have carried this event (ICE cases are re-sent when updated).';
COMMENT ON COLUMN fact_events.received_at IS 'When the extract carrying this version first reached the warehouse, UTC.';
COMMENT ON COLUMN fact_events.sharing_latency_hours IS 'Hours from occurred_at to received_at.';
COMMENT ON COLUMN fact_events.source_file IS 'Name of the partner file this version came from.';
COMMENT ON COLUMN fact_events.source_row IS 'Record number inside that file (1-based).';

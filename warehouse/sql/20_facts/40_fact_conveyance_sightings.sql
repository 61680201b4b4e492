CREATE OR REPLACE TABLE fact_conveyance_sightings AS
SELECT c.event_uid, e.agency_code, e.occurred_at, e.event_date, e.region_code, c.mode,
       c.plate_key, c.plate_jurisdiction, c.vessel_key, c.vessel_name, c.vessel_mmsi, c.vessel_flag, c.vessel_type,
       c.caveat
FROM stg_conveyances AS c
JOIN fact_events AS e USING (event_uid)
ORDER BY e.event_date, c.event_uid;
COMMENT ON TABLE fact_conveyance_sightings IS 'One row per vehicle or vessel named in an event: plates and hull ids as pseudonyms.';
COMMENT ON COLUMN fact_conveyance_sightings.event_uid IS 'The event (fact_events).';
COMMENT ON COLUMN fact_conveyance_sightings.agency_code IS 'Reporting agency.';
COMMENT ON COLUMN fact_conveyance_sightings.occurred_at IS 'When the event happened, UTC.';
COMMENT ON COLUMN fact_conveyance_sightings.event_date IS 'UTC date of the event.';
COMMENT ON COLUMN fact_conveyance_sightings.region_code IS 'IBET region of the event.';
COMMENT ON COLUMN fact_conveyance_sightings.mode IS 'ROAD, RAIL, MARINE, AIR or FOOT.';
COMMENT ON COLUMN fact_conveyance_sightings.plate_key IS 'Keyed pseudonym of the plate with its province or state (UNK when the agency does not report it, so plates of two jurisdictions never link).';
COMMENT ON COLUMN fact_conveyance_sightings.plate_jurisdiction IS 'Province or state of the plate.';
COMMENT ON COLUMN fact_conveyance_sightings.vessel_key IS 'Keyed pseudonym of the vessel hull id.';
COMMENT ON COLUMN fact_conveyance_sightings.vessel_name IS 'Vessel name as reported.';
COMMENT ON COLUMN fact_conveyance_sightings.vessel_mmsi IS 'Vessel MMSI.';
COMMENT ON COLUMN fact_conveyance_sightings.vessel_flag IS 'Flag state, ISO alpha-3.';
COMMENT ON COLUMN fact_conveyance_sightings.vessel_type IS 'PLEASURE, FISHING, CARGO or OTHER.';
COMMENT ON COLUMN fact_conveyance_sightings.caveat IS 'Releasability of the record.';

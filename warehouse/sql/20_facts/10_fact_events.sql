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

CREATE OR REPLACE TABLE fact_seizures AS
SELECT s.event_uid, s.seizure_seq, e.agency_code, e.event_date, e.fiscal_year_can, e.fiscal_year_us, e.region_code,
       s.commodity, s.category, s.quantity_kg, s.quantity_units, s.value AS value_original, s.currency,
       CASE s.currency WHEN 'CAD' THEN 1.0 WHEN 'USD' THEN fx.usd_to_cad END AS to_cad_rate,
       round(s.value * to_cad_rate, 2) AS value_cad, s.caveat
FROM stg_seizures AS s
JOIN fact_events AS e USING (event_uid)
LEFT JOIN ref_fx_rates AS fx ON fx.fiscal_year = e.fiscal_year_can
ORDER BY e.event_date, s.event_uid, s.seizure_seq;
COMMENT ON TABLE fact_seizures IS 'One row per seized goods line of an event.';
COMMENT ON COLUMN fact_seizures.event_uid IS 'The event (fact_events).';
COMMENT ON COLUMN fact_seizures.seizure_seq IS 'Line number within the event.';
COMMENT ON COLUMN fact_seizures.agency_code IS 'Reporting agency.';
COMMENT ON COLUMN fact_seizures.event_date IS 'UTC date of the event.';
COMMENT ON COLUMN fact_seizures.fiscal_year_can IS 'Canadian fiscal year of the event.';
COMMENT ON COLUMN fact_seizures.fiscal_year_us IS 'US fiscal year of the event.';
COMMENT ON COLUMN fact_seizures.region_code IS 'IBET region of the event.';
COMMENT ON COLUMN fact_seizures.commodity IS 'Commodity (dim_commodity); UNSPECIFIED when only a value was reported.';
COMMENT ON COLUMN fact_seizures.category IS 'Threat category of the goods.';
COMMENT ON COLUMN fact_seizures.quantity_kg IS 'Mass in kilograms (pounds and grams converted).';
COMMENT ON COLUMN fact_seizures.quantity_units IS 'Count of items for counted goods (firearms).';
COMMENT ON COLUMN fact_seizures.value_original IS 'Value as reported, in currency.';
COMMENT ON COLUMN fact_seizures.currency IS 'Currency of value_original: CAD or USD.';
COMMENT ON COLUMN fact_seizures.to_cad_rate IS 'Rate applied: 1 for CAD, ref_fx_rates.usd_to_cad of the fiscal year for USD.';
COMMENT ON COLUMN fact_seizures.value_cad IS 'Value in CAD at the stated rate of the fiscal year; null when no rate is stated.';
COMMENT ON COLUMN fact_seizures.caveat IS 'Releasability of the line.';

CREATE OR REPLACE TABLE fact_subject_sightings AS
SELECT s.event_uid, s.subject_seq, e.agency_code, e.occurred_at, e.event_date, e.region_code, s.role,
       s.person_key, s.document_key, s.document_type, s.document_issuer, s.anumber_key,
       s.birth_year, s.sex, s.nationality, s.caveat, s.name_mixed_script
FROM stg_subjects AS s
JOIN fact_events AS e USING (event_uid)
ORDER BY e.event_date, s.event_uid, s.subject_seq;
COMMENT ON TABLE fact_subject_sightings IS 'One row per person named in an event: pseudonyms and generalized attributes only.';
COMMENT ON COLUMN fact_subject_sightings.event_uid IS 'The event (fact_events).';
COMMENT ON COLUMN fact_subject_sightings.subject_seq IS 'Person number within the event.';
COMMENT ON COLUMN fact_subject_sightings.agency_code IS 'Reporting agency.';
COMMENT ON COLUMN fact_subject_sightings.occurred_at IS 'When the event happened, UTC.';
COMMENT ON COLUMN fact_subject_sightings.event_date IS 'UTC date of the event.';
COMMENT ON COLUMN fact_subject_sightings.region_code IS 'IBET region of the event.';
COMMENT ON COLUMN fact_subject_sightings.role IS 'Role of the person in the event (SUBJECT, MASTER).';
COMMENT ON COLUMN fact_subject_sightings.person_key IS 'Keyed pseudonym (HMAC-SHA256) of surname + first given name + date of birth, transliterated to Latin letters: equal across agencies for the same person.';
COMMENT ON COLUMN fact_subject_sightings.document_key IS 'Keyed pseudonym of the issuing country and the travel-document number (ICE names no issuer: the nationality is used).';
COMMENT ON COLUMN fact_subject_sightings.document_type IS 'PASSPORT, NEXUS or PR_CARD.';
COMMENT ON COLUMN fact_subject_sightings.document_issuer IS 'Issuing country, ISO 3166 alpha-3.';
COMMENT ON COLUMN fact_subject_sightings.anumber_key IS 'Keyed pseudonym of the US alien registration number.';
COMMENT ON COLUMN fact_subject_sightings.birth_year IS 'Year of birth (date of birth generalized).';
COMMENT ON COLUMN fact_subject_sightings.sex IS 'M, F or X when reported.';
COMMENT ON COLUMN fact_subject_sightings.nationality IS 'ISO 3166 alpha-3.';
COMMENT ON COLUMN fact_subject_sightings.caveat IS 'Releasability of the record.';
COMMENT ON COLUMN fact_subject_sightings.name_mixed_script IS 'True when the reported name mixed Latin letters with look-alike Cyrillic or Greek ones (folded to Latin before keying): a keying error or a spoof to look at.';

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

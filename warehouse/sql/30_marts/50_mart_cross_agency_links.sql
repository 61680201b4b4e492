-- Which persons, documents, plates and vessels appear in reports of two or more agencies?
-- Linkage works on keyed pseudonyms only: the same person spelled differently by two
-- agencies gets the same person_key, and nobody reading this table learns who it is.
-- The widths of the agency and region bitmaps below (bitstring_agg takes them as constants).
SET VARIABLE links_agency_bits = (SELECT greatest(count(*), 1) FROM dim_agency);
SET VARIABLE links_region_bits = (SELECT greatest(count(*), 1) FROM dim_region);

CREATE OR REPLACE TABLE mart_cross_agency_links AS
WITH sightings AS (
    SELECT 'person' AS link_type, person_key AS pseudonym, agency_code, region_code, event_uid, occurred_at
    FROM fact_subject_sightings WHERE person_key IS NOT NULL
    UNION ALL
    SELECT 'document', document_key, agency_code, region_code, event_uid, occurred_at
    FROM fact_subject_sightings WHERE document_key IS NOT NULL
    UNION ALL
    SELECT 'anumber', anumber_key, agency_code, region_code, event_uid, occurred_at
    FROM fact_subject_sightings WHERE anumber_key IS NOT NULL
    UNION ALL
    SELECT 'plate', plate_key, agency_code, region_code, event_uid, occurred_at
    FROM fact_conveyance_sightings WHERE plate_key IS NOT NULL
    UNION ALL
    SELECT 'vessel', vessel_key, agency_code, region_code, event_uid, occurred_at
    FROM fact_conveyance_sightings WHERE vessel_key IS NOT NULL
),
-- One row per pseudonym and event: an event has one agency, region and time, and the event
-- count is then a plain count.
per_event AS (
    SELECT link_type, pseudonym, event_uid, any_value(agency_code) AS agency_code,
           any_value(region_code) AS region_code, min(occurred_at) AS occurred_at
    FROM sightings GROUP BY link_type, pseudonym, event_uid
),
-- The agencies and regions of a pseudonym as bitmaps over the codes (numbered in code order):
-- a bitmap per pseudonym is cheap to build, its bit count is the distinct count, and the few
-- distinct bitmaps are spelled out once each. Distinct lists built per pseudonym cost 3x more.
agency_bit AS (SELECT agency_code, row_number() OVER (ORDER BY agency_code) AS bit FROM dim_agency),
region_bit AS (SELECT region_code, row_number() OVER (ORDER BY region_code) AS bit FROM dim_region),
per_pseudonym AS (
    SELECT link_type, pseudonym,
           bitstring_agg(a.bit, 1, getvariable('links_agency_bits')) AS agency_set,
           bitstring_agg(r.bit, 1, getvariable('links_region_bits')) AS region_set,
           min(occurred_at) AS first_seen, max(occurred_at) AS last_seen, count(*) AS event_count
    FROM per_event JOIN agency_bit AS a USING (agency_code) JOIN region_bit AS r USING (region_code)
    GROUP BY link_type, pseudonym
    HAVING bit_count(agency_set) >= 2
),
agency_sets AS (
    SELECT agency_set, CAST(bit_count(agency_set) AS BIGINT) AS agency_count,
           (SELECT string_agg(agency_code, ',' ORDER BY agency_code) FROM agency_bit
            WHERE get_bit(s.agency_set, CAST(bit - 1 AS INTEGER)) = 1) AS agencies
    FROM (SELECT DISTINCT agency_set FROM per_pseudonym) AS s
),
region_sets AS (
    SELECT region_set, CAST(bit_count(region_set) AS BIGINT) AS region_count,
           (SELECT string_agg(region_code, ',' ORDER BY region_code) FROM region_bit
            WHERE get_bit(s.region_set, CAST(bit - 1 AS INTEGER)) = 1) AS regions
    FROM (SELECT DISTINCT region_set FROM per_pseudonym) AS s
)
SELECT link_type, pseudonym, agency_count, agencies, region_count, regions, first_seen, last_seen, event_count
FROM per_pseudonym JOIN agency_sets USING (agency_set) JOIN region_sets USING (region_set)
ORDER BY link_type, agency_count DESC, event_count DESC, pseudonym;
COMMENT ON TABLE mart_cross_agency_links IS 'Every person, document, plate and vessel pseudonym reported by two or more agencies.';
COMMENT ON COLUMN mart_cross_agency_links.link_type IS 'person, document, anumber, plate or vessel.';
COMMENT ON COLUMN mart_cross_agency_links.pseudonym IS 'Keyed pseudonym (64 hex): join to the *_key columns of the sighting facts.';
COMMENT ON COLUMN mart_cross_agency_links.agency_count IS 'Agencies that reported it.';
COMMENT ON COLUMN mart_cross_agency_links.agencies IS 'Those agencies, comma separated.';
COMMENT ON COLUMN mart_cross_agency_links.region_count IS 'Regions it was reported in.';
COMMENT ON COLUMN mart_cross_agency_links.regions IS 'Those regions, comma separated.';
COMMENT ON COLUMN mart_cross_agency_links.first_seen IS 'Earliest event time, UTC.';
COMMENT ON COLUMN mart_cross_agency_links.last_seen IS 'Latest event time, UTC.';
COMMENT ON COLUMN mart_cross_agency_links.event_count IS 'Events it appears in.';

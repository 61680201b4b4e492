-- Which persons, documents, plates and vessels appear in reports of two or more agencies?
-- Linkage works on keyed pseudonyms only: the same person spelled differently by two
-- agencies gets the same person_key, and nobody reading this table learns who it is.
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
)
SELECT link_type, pseudonym,
       count(DISTINCT agency_code) AS agency_count,
       string_agg(DISTINCT agency_code, ',' ORDER BY agency_code) AS agencies,
       count(DISTINCT region_code) AS region_count,
       string_agg(DISTINCT region_code, ',' ORDER BY region_code) AS regions,
       min(occurred_at) AS first_seen, max(occurred_at) AS last_seen,
       count(DISTINCT event_uid) AS event_count
FROM sightings
GROUP BY link_type, pseudonym
HAVING count(DISTINCT agency_code) >= 2
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

-- Which joint operations produced what? A named operation groups its events; a
-- ShipRider patrol or a BEST / multi-partner ICE case is a joint operation of its own.
CREATE OR REPLACE TABLE mart_joint_operations AS
WITH ops AS (
    SELECT * FROM fact_events WHERE joint_operation_key IS NOT NULL
),
seized AS (
    SELECT e.joint_operation_key, count(*) AS seizure_lines, round(sum(s.quantity_kg), 3) AS seized_kg,
           round(sum(s.value_cad), 2) AS seized_value_cad
    FROM fact_seizures AS s JOIN ops AS e USING (event_uid)
    GROUP BY ALL
)
SELECT o.joint_operation_key AS operation_id,
       CASE WHEN any_value(o.joint_operation_id) IS NOT NULL THEN 'named joint operation'
            WHEN any_value(o.agency_code) = 'uscg' THEN 'ShipRider patrol'
            WHEN any_value(o.agency_code) = 'ice' THEN 'BEST / multi-partner case'
            ELSE 'joint event' END AS operation_kind,
       string_agg(DISTINCT o.agency_code, ',' ORDER BY o.agency_code) AS reporting_agencies,
       string_agg(DISTINCT o.region_code, ',' ORDER BY o.region_code) AS regions,
       min(o.event_date) AS first_date, max(o.event_date) AS last_date,
       count(*) AS events, count(*) FILTER (WHERE o.is_interdiction) AS interdictions,
       sum(o.arrests) AS arrests, sum(o.persons_count) AS persons,
       coalesce(any_value(s.seizure_lines), 0) AS seizure_lines,
       coalesce(any_value(s.seized_kg), 0) AS seized_kg,
       coalesce(any_value(s.seized_value_cad), 0) AS seized_value_cad
FROM ops AS o LEFT JOIN seized AS s USING (joint_operation_key)
GROUP BY o.joint_operation_key
ORDER BY events DESC, operation_id;
COMMENT ON TABLE mart_joint_operations IS 'Joint operations and what they produced.';
COMMENT ON COLUMN mart_joint_operations.operation_id IS 'joint_operation_id, or the event uid of a ShipRider patrol / joint ICE case.';
COMMENT ON COLUMN mart_joint_operations.operation_kind IS 'named joint operation, ShipRider patrol, BEST / multi-partner case.';
COMMENT ON COLUMN mart_joint_operations.reporting_agencies IS 'Agencies whose reports carry the operation.';
COMMENT ON COLUMN mart_joint_operations.regions IS 'Regions of its events.';
COMMENT ON COLUMN mart_joint_operations.first_date IS 'First event date.';
COMMENT ON COLUMN mart_joint_operations.last_date IS 'Last event date.';
COMMENT ON COLUMN mart_joint_operations.events IS 'Events reported under it.';
COMMENT ON COLUMN mart_joint_operations.interdictions IS 'Of which interdictions.';
COMMENT ON COLUMN mart_joint_operations.arrests IS 'Persons arrested or apprehended.';
COMMENT ON COLUMN mart_joint_operations.persons IS 'Persons involved.';
COMMENT ON COLUMN mart_joint_operations.seizure_lines IS 'Goods lines seized.';
COMMENT ON COLUMN mart_joint_operations.seized_kg IS 'Mass seized, kg.';
COMMENT ON COLUMN mart_joint_operations.seized_value_cad IS 'Value seized, CAD.';

-- Hotspots on a fixed 0.25-degree grid (about 28 km north-south): events per cell and
-- category, with an ALL-categories row per cell and the cell's rank within its category.
CREATE OR REPLACE TABLE mart_hotspots AS
WITH cells AS (
    SELECT *, floor(latitude / 0.25) * 0.25 AS cell_south, floor(longitude / 0.25) * 0.25 AS cell_west
    FROM fact_events WHERE latitude IS NOT NULL AND longitude IS NOT NULL
),
agg AS (
    SELECT printf('%.2f,%.2f', cell_south, cell_west) AS cell_id, cell_south, cell_west,
           CASE WHEN grouping(category) = 1 THEN 'ALL' ELSE category END AS category,
           count(*) AS events, count(*) FILTER (WHERE is_interdiction) AS interdictions,
           count(DISTINCT agency_code) AS agency_count,
           string_agg(DISTINCT agency_code, ',' ORDER BY agency_code) AS agencies,
           mode(region_code ORDER BY region_code) AS region_code,
           min(event_date) AS first_date, max(event_date) AS last_date
    FROM cells
    GROUP BY GROUPING SETS ((cell_south, cell_west, category), (cell_south, cell_west))
)
SELECT cell_id, cell_south, cell_west, cell_south + 0.125 AS center_lat, cell_west + 0.125 AS center_lon,
       category, region_code, events, interdictions, agency_count, agencies, first_date, last_date,
       rank() OVER (PARTITION BY category ORDER BY events DESC) AS rank_in_category
FROM agg
ORDER BY category, rank_in_category, cell_id;
COMMENT ON TABLE mart_hotspots IS 'Events per 0.25-degree grid cell and category (category ALL = every category).';
COMMENT ON COLUMN mart_hotspots.cell_id IS 'South-west corner of the cell: "lat,lon".';
COMMENT ON COLUMN mart_hotspots.cell_south IS 'Southern edge of the cell, degrees.';
COMMENT ON COLUMN mart_hotspots.cell_west IS 'Western edge of the cell, degrees.';
COMMENT ON COLUMN mart_hotspots.center_lat IS 'Centre latitude of the cell.';
COMMENT ON COLUMN mart_hotspots.center_lon IS 'Centre longitude of the cell.';
COMMENT ON COLUMN mart_hotspots.category IS 'Threat category, or ALL.';
COMMENT ON COLUMN mart_hotspots.region_code IS 'Most frequent region of the cell''s events.';
COMMENT ON COLUMN mart_hotspots.events IS 'Events in the cell.';
COMMENT ON COLUMN mart_hotspots.interdictions IS 'Of which interdictions.';
COMMENT ON COLUMN mart_hotspots.agency_count IS 'Agencies reporting in the cell.';
COMMENT ON COLUMN mart_hotspots.agencies IS 'Those agencies.';
COMMENT ON COLUMN mart_hotspots.first_date IS 'First event date in the cell.';
COMMENT ON COLUMN mart_hotspots.last_date IS 'Last event date in the cell.';
COMMENT ON COLUMN mart_hotspots.rank_in_category IS 'Rank of the cell by events within its category (1 = hottest).';

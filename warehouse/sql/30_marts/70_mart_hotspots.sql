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

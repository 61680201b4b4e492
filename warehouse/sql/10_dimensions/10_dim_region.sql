-- Dimensions from reference data (foundation/data, overridable in IBET_HOME/reference).

CREATE OR REPLACE TABLE dim_region AS
SELECT region_code, region_name, min_lon, max_lon, min_lat, max_lat, maritime, FALSE AS is_unknown
FROM src_regions
UNION ALL
SELECT 'UNK', 'Unknown (no usable coordinates, and no unit that lies in one region)',
       NULL, NULL, NULL, NULL, NULL, TRUE;
COMMENT ON TABLE dim_region IS 'The 15 IBET regions as reference boxes (approximate, not official boundaries), plus UNK.';
COMMENT ON COLUMN dim_region.region_code IS 'Region code used by every fact and mart.';
COMMENT ON COLUMN dim_region.region_name IS 'Region name.';
COMMENT ON COLUMN dim_region.min_lon IS 'Western edge of the reference box, decimal degrees.';
COMMENT ON COLUMN dim_region.max_lon IS 'Eastern edge of the reference box, decimal degrees.';
COMMENT ON COLUMN dim_region.min_lat IS 'Southern edge of the reference box, decimal degrees.';
COMMENT ON COLUMN dim_region.max_lat IS 'Northern edge of the reference box, decimal degrees.';
COMMENT ON COLUMN dim_region.maritime IS 'True when the region includes shared waters.';
COMMENT ON COLUMN dim_region.is_unknown IS 'True only for UNK: events whose region could not be determined.';

CREATE OR REPLACE TABLE dim_category AS
SELECT category, label, description FROM src_categories;
COMMENT ON TABLE dim_category IS 'The one threat taxonomy every agency''s codes are mapped to.';
COMMENT ON COLUMN dim_category.category IS 'Threat category code.';
COMMENT ON COLUMN dim_category.label IS 'Readable label.';
COMMENT ON COLUMN dim_category.description IS 'Which agency codes map here.';

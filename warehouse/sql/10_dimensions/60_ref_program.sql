CREATE OR REPLACE TABLE ref_program AS
SELECT program, lead_department, total_allocation_cad, allocation_start, allocation_end,
       date_diff('year', allocation_start, allocation_end + INTERVAL 1 DAY) AS allocation_years, source
FROM src_program;
COMMENT ON TABLE ref_program IS 'The horizontal initiative as published: total allocation and its period.';
COMMENT ON COLUMN ref_program.program IS 'Program name.';
COMMENT ON COLUMN ref_program.lead_department IS 'Lead department.';
COMMENT ON COLUMN ref_program.total_allocation_cad IS 'Total federal allocation over the period, CAD.';
COMMENT ON COLUMN ref_program.allocation_start IS 'First day of the allocation period.';
COMMENT ON COLUMN ref_program.allocation_end IS 'Last day of the allocation period.';
COMMENT ON COLUMN ref_program.allocation_years IS 'Length of the allocation period in years.';
COMMENT ON COLUMN ref_program.source IS 'Published source of the figures.';

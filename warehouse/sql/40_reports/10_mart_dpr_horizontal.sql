-- The horizontal-initiative table in the shape of the RCMP's Departmental Performance
-- Report (FY2006-07): program, lead department, total allocation, then per partner the
-- planned and actual spending of the year and its planned results and results achieved.
-- Results achieved come from mart_indicators (Canadian calendar, all regions), so in the
-- evaluator file they carry that file's suppression.
CREATE OR REPLACE TEMP MACRO dpr_phrase(label, v, hidden, fmt) AS
    CASE WHEN hidden THEN label || ': withheld (fewer than ' || ibet_suppression_threshold() || ' records, or would reveal such a count)'
         WHEN v IS NULL THEN NULL
         ELSE label || ': ' || format(fmt, v) END;

CREATE OR REPLACE TABLE mart_dpr_horizontal AS
WITH ind AS (
    SELECT fiscal_year, agency_code,
           max(value) FILTER (WHERE indicator = 'interdictions') AS interdictions,
           bool_or(suppressed) FILTER (WHERE indicator = 'interdictions') AS interdictions_hidden,
           max(value) FILTER (WHERE indicator = 'arrests') AS arrests,
           bool_or(suppressed) FILTER (WHERE indicator = 'arrests') AS arrests_hidden,
           max(value) FILTER (WHERE indicator = 'joint_operations') AS joint_operations,
           bool_or(suppressed) FILTER (WHERE indicator = 'joint_operations') AS joint_operations_hidden,
           max(value) FILTER (WHERE indicator = 'seizure_value_cad') AS seizure_value_cad,
           bool_or(suppressed) FILTER (WHERE indicator = 'seizure_value_cad') AS seizure_value_hidden,
           max(value) FILTER (WHERE indicator = 'subjects_linked') AS subjects_linked,
           bool_or(suppressed) FILTER (WHERE indicator = 'subjects_linked') AS subjects_linked_hidden
    FROM mart_indicators
    WHERE calendar = 'CAN' AND period = 'year' AND region_code = 'ALL' AND detail = ''
    GROUP BY fiscal_year, agency_code
)
SELECT f.fiscal_year_can AS fiscal_year, p.program, p.lead_department, p.total_allocation_cad,
       p.allocation_start, p.allocation_end, p.allocation_years,
       f.agency_code, a.agency_name AS partner, a.country,
       f.planned_spending, f.actual_spending, f.currency, f.planned_cad, f.actual_cad, f.variance_cad, f.note,
       r.planned_results,
       CAST(i.interdictions AS BIGINT) AS interdictions, CAST(i.arrests AS BIGINT) AS arrests,
       CAST(i.joint_operations AS BIGINT) AS joint_operations, i.seizure_value_cad,
       coalesce(nullif(concat_ws('; ',
           dpr_phrase('interdictions', i.interdictions, i.interdictions_hidden, '{:,.0f}'),
           dpr_phrase('arrests/apprehensions', i.arrests, i.arrests_hidden, '{:,.0f}'),
           dpr_phrase('joint operations', i.joint_operations, i.joint_operations_hidden, '{:,.0f}'),
           dpr_phrase('seizures (CAD)', i.seizure_value_cad, i.seizure_value_hidden, '${:,.0f}'),
           dpr_phrase('subjects linked across agencies', i.subjects_linked, i.subjects_linked_hidden, '{:,.0f}')
       ), ''), 'no records in the warehouse for this year') AS results_achieved
FROM fact_finance AS f
CROSS JOIN ref_program AS p
LEFT JOIN dim_agency AS a USING (agency_code)
LEFT JOIN ref_planned_results AS r ON r.agency_code = f.agency_code AND r.fiscal_year = f.fiscal_year_can
LEFT JOIN ind AS i ON i.fiscal_year = f.fiscal_year_can AND i.agency_code = f.agency_code
ORDER BY fiscal_year, CASE WHEN a.agency_name = p.lead_department THEN 0 ELSE 1 END, f.agency_code;
COMMENT ON TABLE mart_dpr_horizontal IS 'Horizontal-initiative table per Canadian fiscal year and partner, in the shape of the RCMP DPR 2006-07.';
COMMENT ON COLUMN mart_dpr_horizontal.fiscal_year IS 'Canadian fiscal year.';
COMMENT ON COLUMN mart_dpr_horizontal.program IS 'Program name.';
COMMENT ON COLUMN mart_dpr_horizontal.lead_department IS 'Lead department.';
COMMENT ON COLUMN mart_dpr_horizontal.total_allocation_cad IS 'Total allocation of the initiative over its period, CAD.';
COMMENT ON COLUMN mart_dpr_horizontal.allocation_start IS 'Start of the allocation period.';
COMMENT ON COLUMN mart_dpr_horizontal.allocation_end IS 'End of the allocation period.';
COMMENT ON COLUMN mart_dpr_horizontal.allocation_years IS 'Years in the allocation period.';
COMMENT ON COLUMN mart_dpr_horizontal.agency_code IS 'Partner agency.';
COMMENT ON COLUMN mart_dpr_horizontal.partner IS 'Partner name.';
COMMENT ON COLUMN mart_dpr_horizontal.country IS 'CAN or USA.';
COMMENT ON COLUMN mart_dpr_horizontal.planned_spending IS 'Planned spending for the year, reported currency.';
COMMENT ON COLUMN mart_dpr_horizontal.actual_spending IS 'Actual spending for the year, reported currency.';
COMMENT ON COLUMN mart_dpr_horizontal.currency IS 'Reported currency.';
COMMENT ON COLUMN mart_dpr_horizontal.planned_cad IS 'Planned spending, CAD.';
COMMENT ON COLUMN mart_dpr_horizontal.actual_cad IS 'Actual spending, CAD.';
COMMENT ON COLUMN mart_dpr_horizontal.variance_cad IS 'Actual minus planned, CAD.';
COMMENT ON COLUMN mart_dpr_horizontal.note IS 'Note sent with the figures (e.g. the INSET allocation).';
COMMENT ON COLUMN mart_dpr_horizontal.planned_results IS 'Planned results (reference text).';
COMMENT ON COLUMN mart_dpr_horizontal.interdictions IS 'Interdictions in the year (null when suppressed or none).';
COMMENT ON COLUMN mart_dpr_horizontal.arrests IS 'Arrests and apprehensions in the year.';
COMMENT ON COLUMN mart_dpr_horizontal.joint_operations IS 'Joint operations in the year.';
COMMENT ON COLUMN mart_dpr_horizontal.seizure_value_cad IS 'Value seized in the year, CAD.';
COMMENT ON COLUMN mart_dpr_horizontal.results_achieved IS 'Results achieved in words, from the warehouse''s indicators.';

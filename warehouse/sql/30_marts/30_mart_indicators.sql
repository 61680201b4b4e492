-- Program performance indicators (DOMAIN.md) in one long table:
-- calendar x fiscal_year x agency x region x indicator. Every indicator is given in both
-- fiscal calendars; agency_code / region_code 'ALL' are the totals over agencies / regions.
-- basis_count is how many records a value rests on: the evaluator file suppresses any
-- value whose basis (or which, as a count, itself) is below the threshold.

CREATE OR REPLACE TABLE dim_indicator AS
SELECT * FROM (VALUES
    ('events_reported', 'count', 'Reports (events) shared with the warehouse.'),
    ('joint_operations', 'count', 'Joint operations: named operations, ShipRider patrols, BEST / multi-partner cases.'),
    ('intel_led_share', 'share', 'Share of events that came from intelligence rather than patrol (agencies that report it).'),
    ('interdictions', 'count', 'Events in which persons or goods were intercepted.'),
    ('arrests', 'count', 'Persons arrested or apprehended.'),
    ('seizure_events', 'count', 'Events with at least one goods line seized.'),
    ('seizure_kg', 'kg', 'Mass seized, kg.'),
    ('seizure_value_cad', 'CAD', 'Value seized, CAD at the stated rate per fiscal year.'),
    ('subjects_linked', 'count', 'Persons in these reports who were also reported by another agency.'),
    ('median_sharing_latency_hours', 'hours', 'Median hours from event to warehouse.'),
    ('gotaways', 'count', 'Detected illegal crossings that were not interdicted (CBP GOTAWAY).'),
    ('interception_rate', 'share', 'Share of detected illegal crossings that were interdicted: apprehensions / (apprehensions + gotaways), CBP.'),
    ('outreach_events', 'count', 'Outreach events held (detail = program).'),
    ('outreach_attendance', 'count', 'People attending outreach events (detail = program).'),
    ('tips_received', 'count', 'Tips received after outreach (detail = program).'),
    ('radio_tests', 'count', 'Cross-border radio interoperability field tests.'),
    ('radio_tests_passed', 'count', 'Radio interoperability tests passed.'),
    ('radio_pass_rate', 'share', 'Share of radio tests passed.'),
    ('planned_spending_cad', 'CAD', 'Planned spending, CAD (US calendar: prorated by day from Canadian fiscal years).'),
    ('actual_spending_cad', 'CAD', 'Actual spending, CAD (US calendar: prorated by day).'),
    ('spending_variance_cad', 'CAD', 'Actual minus planned spending, CAD.'),
    ('spending_variance_pct', 'share', 'Variance as a share of planned spending.'),
    ('cost_per_interdiction_cad', 'CAD', 'Actual spending divided by interdictions.')
) AS t(indicator, unit, description);
COMMENT ON TABLE dim_indicator IS 'The program performance indicators, their units and definitions.';
COMMENT ON COLUMN dim_indicator.indicator IS 'Indicator code used in mart_indicators.';
COMMENT ON COLUMN dim_indicator.unit IS 'count, share (0-1), kg, CAD or hours.';
COMMENT ON COLUMN dim_indicator.description IS 'Definition.';

-- Both calendars side by side: each event appears once per calendar.
CREATE OR REPLACE TEMP TABLE ind_events AS
SELECT 'CAN' AS calendar, fiscal_year_can AS fiscal_year, * FROM fact_events
UNION ALL BY NAME
SELECT 'USA' AS calendar, fiscal_year_us AS fiscal_year, * FROM fact_events;

CREATE OR REPLACE TEMP TABLE ind_linked AS
SELECT pseudonym AS person_key FROM mart_cross_agency_links WHERE link_type = 'person';

CREATE OR REPLACE TEMP TABLE ind_event_totals AS
SELECT calendar, fiscal_year,
       CASE WHEN grouping(agency_code) = 1 THEN 'ALL' ELSE agency_code END AS agency_code,
       CASE WHEN grouping(region_code) = 1 THEN 'ALL' ELSE region_code END AS region_code,
       count(*) AS events_reported,
       count(DISTINCT joint_operation_key) AS joint_operations,
       count(intel_led) AS intel_flagged,
       count(*) FILTER (WHERE intel_led) AS intel_led_events,
       count(*) FILTER (WHERE is_interdiction) AS interdictions,
       sum(arrests) AS arrests,
       count(*) FILTER (WHERE agency_code = 'cbp' AND action = 'GOTAWAY') AS gotaways,
       count(*) FILTER (WHERE agency_code = 'cbp' AND action = 'APPREHENSION') AS crossings_interdicted,
       count(sharing_latency_hours) AS latency_known,
       median(sharing_latency_hours) AS latency_median
FROM ind_events
GROUP BY GROUPING SETS ((calendar, fiscal_year, agency_code, region_code), (calendar, fiscal_year, agency_code),
                        (calendar, fiscal_year, region_code), (calendar, fiscal_year));

CREATE OR REPLACE TEMP TABLE ind_seizure_totals AS
WITH s AS (
    SELECT 'CAN' AS calendar, fiscal_year_can AS fiscal_year, * FROM fact_seizures
    UNION ALL BY NAME SELECT 'USA' AS calendar, fiscal_year_us AS fiscal_year, * FROM fact_seizures
)
SELECT calendar, fiscal_year,
       CASE WHEN grouping(agency_code) = 1 THEN 'ALL' ELSE agency_code END AS agency_code,
       CASE WHEN grouping(region_code) = 1 THEN 'ALL' ELSE region_code END AS region_code,
       count(DISTINCT event_uid) AS seizure_events,
       count(quantity_kg) AS kg_lines, sum(quantity_kg) AS seizure_kg,
       count(value_cad) AS value_lines, sum(value_cad) AS seizure_value_cad
FROM s
GROUP BY GROUPING SETS ((calendar, fiscal_year, agency_code, region_code), (calendar, fiscal_year, agency_code),
                        (calendar, fiscal_year, region_code), (calendar, fiscal_year));

CREATE OR REPLACE TEMP TABLE ind_subject_totals AS
WITH s AS (
    SELECT 'CAN' AS calendar, fy_can(event_date) AS fiscal_year, * FROM fact_subject_sightings
    UNION ALL BY NAME SELECT 'USA' AS calendar, fy_us(event_date) AS fiscal_year, * FROM fact_subject_sightings
)
SELECT calendar, fiscal_year,
       CASE WHEN grouping(agency_code) = 1 THEN 'ALL' ELSE agency_code END AS agency_code,
       CASE WHEN grouping(region_code) = 1 THEN 'ALL' ELSE region_code END AS region_code,
       count(DISTINCT person_key) FILTER (WHERE person_key IN (SELECT person_key FROM ind_linked)) AS subjects_linked
FROM s
GROUP BY GROUPING SETS ((calendar, fiscal_year, agency_code, region_code), (calendar, fiscal_year, agency_code),
                        (calendar, fiscal_year, region_code), (calendar, fiscal_year));

-- Program-level data is not attributed to one partner: agency_code is 'ALL'.
CREATE OR REPLACE TEMP TABLE ind_outreach_totals AS
WITH o AS (
    SELECT 'CAN' AS calendar, fiscal_year_can AS fiscal_year, * FROM fact_outreach
    UNION ALL BY NAME SELECT 'USA' AS calendar, fiscal_year_us AS fiscal_year, * FROM fact_outreach
)
SELECT calendar, fiscal_year,
       CASE WHEN grouping(region_code) = 1 THEN 'ALL' ELSE region_code END AS region_code,
       CASE WHEN grouping(program) = 1 THEN 'ALL' ELSE program END AS detail,
       count(*) AS outreach_events, sum(attendees) AS attendance, sum(tips_received) AS tips
FROM o
GROUP BY GROUPING SETS ((calendar, fiscal_year, region_code, program), (calendar, fiscal_year, program),
                        (calendar, fiscal_year, region_code), (calendar, fiscal_year));

CREATE OR REPLACE TEMP TABLE ind_radio_totals AS
WITH r AS (
    SELECT 'CAN' AS calendar, fiscal_year_can AS fiscal_year, * FROM fact_radio_tests
    UNION ALL BY NAME SELECT 'USA' AS calendar, fiscal_year_us AS fiscal_year, * FROM fact_radio_tests
)
SELECT calendar, fiscal_year,
       CASE WHEN grouping(region_code) = 1 THEN 'ALL' ELSE region_code END AS region_code,
       count(*) AS radio_tests, count(*) FILTER (WHERE success) AS passed
FROM r
GROUP BY GROUPING SETS ((calendar, fiscal_year, region_code), (calendar, fiscal_year));

-- Spending: reported per Canadian fiscal year; the US calendar gets each year's amounts
-- spread evenly over its days (coverage says how much of the US year was reported).
CREATE OR REPLACE TEMP TABLE ind_spending AS
WITH per_agency AS (
    SELECT 'CAN' AS calendar, fiscal_year_can AS fiscal_year, agency_code, planned_cad, actual_cad, 1.0 AS coverage
    FROM fact_finance
    UNION ALL
    SELECT 'USA', d.fiscal_year_us, f.agency_code,
           sum(f.planned_cad / fc.days), sum(f.actual_cad / fc.days), count(*) / any_value(fu.days)
    FROM fact_finance AS f
    JOIN dim_fiscal_year AS fc ON fc.calendar = 'CAN' AND fc.fiscal_year = f.fiscal_year_can
    JOIN dim_date AS d ON d.fiscal_year_can = f.fiscal_year_can
    JOIN dim_fiscal_year AS fu ON fu.calendar = 'USA' AND fu.fiscal_year = d.fiscal_year_us
    GROUP BY d.fiscal_year_us, f.agency_code
)
SELECT calendar, fiscal_year, CASE WHEN grouping(agency_code) = 1 THEN 'ALL' ELSE agency_code END AS agency_code,
       round(sum(planned_cad), 2) AS planned_cad, round(sum(actual_cad), 2) AS actual_cad, min(coverage) AS coverage
FROM per_agency
GROUP BY GROUPING SETS ((calendar, fiscal_year, agency_code), (calendar, fiscal_year));

CREATE OR REPLACE TABLE mart_indicators AS
WITH long_form AS (
    SELECT calendar, fiscal_year, agency_code, region_code, 'events_reported' AS indicator, '' AS detail,
           events_reported::DOUBLE AS value, events_reported AS basis_count, NULL AS note FROM ind_event_totals
    UNION ALL SELECT calendar, fiscal_year, agency_code, region_code, 'joint_operations', '',
           joint_operations, joint_operations, NULL FROM ind_event_totals WHERE joint_operations > 0
    UNION ALL SELECT calendar, fiscal_year, agency_code, region_code, 'intel_led_share', '',
           round(intel_led_events / intel_flagged, 4), intel_flagged, NULL FROM ind_event_totals WHERE intel_flagged > 0
    UNION ALL SELECT calendar, fiscal_year, agency_code, region_code, 'interdictions', '',
           interdictions, interdictions, NULL FROM ind_event_totals
    UNION ALL SELECT calendar, fiscal_year, agency_code, region_code, 'arrests', '',
           arrests, arrests, NULL FROM ind_event_totals
    UNION ALL SELECT calendar, fiscal_year, agency_code, region_code, 'median_sharing_latency_hours', '',
           round(latency_median, 2), latency_known, NULL FROM ind_event_totals WHERE latency_known > 0
    UNION ALL SELECT calendar, fiscal_year, agency_code, region_code, 'gotaways', '',
           gotaways, gotaways, NULL FROM ind_event_totals WHERE agency_code IN ('cbp', 'ALL')
    UNION ALL SELECT calendar, fiscal_year, agency_code, region_code, 'interception_rate', '',
           round(crossings_interdicted / (crossings_interdicted + gotaways), 4), crossings_interdicted + gotaways,
           'apprehension events / (apprehension + GOTAWAY events), CBP only'
           FROM ind_event_totals WHERE agency_code IN ('cbp', 'ALL') AND crossings_interdicted + gotaways > 0
    UNION ALL SELECT calendar, fiscal_year, agency_code, region_code, 'seizure_events', '',
           seizure_events, seizure_events, NULL FROM ind_seizure_totals
    UNION ALL SELECT calendar, fiscal_year, agency_code, region_code, 'seizure_kg', '',
           round(seizure_kg, 3), kg_lines, NULL FROM ind_seizure_totals WHERE kg_lines > 0
    UNION ALL SELECT calendar, fiscal_year, agency_code, region_code, 'seizure_value_cad', '',
           round(seizure_value_cad, 2), value_lines, NULL FROM ind_seizure_totals WHERE value_lines > 0
    UNION ALL SELECT calendar, fiscal_year, agency_code, region_code, 'subjects_linked', '',
           subjects_linked, subjects_linked, NULL FROM ind_subject_totals
    UNION ALL SELECT calendar, fiscal_year, 'ALL', region_code, 'outreach_events', detail,
           outreach_events, outreach_events, NULL FROM ind_outreach_totals
    UNION ALL SELECT calendar, fiscal_year, 'ALL', region_code, 'outreach_attendance', detail,
           attendance, outreach_events, NULL FROM ind_outreach_totals
    UNION ALL SELECT calendar, fiscal_year, 'ALL', region_code, 'tips_received', detail,
           tips, outreach_events, NULL FROM ind_outreach_totals
    UNION ALL SELECT calendar, fiscal_year, 'ALL', region_code, 'radio_tests', '',
           radio_tests, radio_tests, NULL FROM ind_radio_totals
    UNION ALL SELECT calendar, fiscal_year, 'ALL', region_code, 'radio_tests_passed', '',
           passed, radio_tests, NULL FROM ind_radio_totals
    UNION ALL SELECT calendar, fiscal_year, 'ALL', region_code, 'radio_pass_rate', '',
           round(passed / radio_tests, 4), radio_tests, NULL FROM ind_radio_totals
    UNION ALL SELECT calendar, fiscal_year, agency_code, 'ALL', 'planned_spending_cad', '',
           planned_cad, NULL, CASE WHEN calendar = 'USA' THEN printf('prorated by day; %.0f%% of the year reported', coverage * 100) END
           FROM ind_spending
    UNION ALL SELECT calendar, fiscal_year, agency_code, 'ALL', 'actual_spending_cad', '',
           actual_cad, NULL, CASE WHEN calendar = 'USA' THEN printf('prorated by day; %.0f%% of the year reported', coverage * 100) END
           FROM ind_spending
    UNION ALL SELECT calendar, fiscal_year, agency_code, 'ALL', 'spending_variance_cad', '',
           round(actual_cad - planned_cad, 2), NULL, NULL FROM ind_spending
    UNION ALL SELECT calendar, fiscal_year, agency_code, 'ALL', 'spending_variance_pct', '',
           round((actual_cad - planned_cad) / nullif(planned_cad, 0), 6), NULL, NULL FROM ind_spending
           WHERE planned_cad <> 0
    UNION ALL SELECT s.calendar, s.fiscal_year, s.agency_code, 'ALL', 'cost_per_interdiction_cad', '',
           round(s.actual_cad / e.interdictions, 2), e.interdictions, NULL
           FROM ind_spending AS s
           JOIN ind_event_totals AS e USING (calendar, fiscal_year, agency_code)
           WHERE e.region_code = 'ALL' AND e.interdictions > 0
)
SELECT calendar, fiscal_year, agency_code, region_code, indicator, detail, value, d.unit,
       CAST(basis_count AS BIGINT) AS basis_count, FALSE AS suppressed, note
FROM long_form JOIN dim_indicator AS d USING (indicator)
WHERE value IS NOT NULL
ORDER BY calendar, fiscal_year, indicator, detail, agency_code, region_code;
COMMENT ON TABLE mart_indicators IS 'Every program performance indicator by calendar x fiscal year x agency x region (ALL = total).';
COMMENT ON COLUMN mart_indicators.calendar IS 'CAN (April-March, fiscal_year like 2006-07) or USA (October-September, like FY2007).';
COMMENT ON COLUMN mart_indicators.fiscal_year IS 'Fiscal-year label in that calendar.';
COMMENT ON COLUMN mart_indicators.agency_code IS 'Partner agency, or ALL for the total (and for program-level data).';
COMMENT ON COLUMN mart_indicators.region_code IS 'IBET region, or ALL for the total.';
COMMENT ON COLUMN mart_indicators.indicator IS 'Indicator code (dim_indicator).';
COMMENT ON COLUMN mart_indicators.detail IS 'Breakdown within the indicator (outreach program), empty when none; ALL = every program.';
COMMENT ON COLUMN mart_indicators.value IS 'The value, in unit; null when suppressed.';
COMMENT ON COLUMN mart_indicators.unit IS 'count, share (0-1), kg, CAD or hours.';
COMMENT ON COLUMN mart_indicators.basis_count IS 'Records the value rests on (null for spending figures); null when suppressed.';
COMMENT ON COLUMN mart_indicators.suppressed IS 'True when the value was withheld because it rests on fewer records than the threshold.';
COMMENT ON COLUMN mart_indicators.note IS 'How the value was obtained when that needs saying.';

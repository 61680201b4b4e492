-- The periods of both calendars: each fiscal year and its quarters, with their days.
CREATE OR REPLACE TEMP TABLE ind_periods AS
SELECT 'CAN' AS calendar, fiscal_year_can AS fiscal_year,
       CASE WHEN grouping(fiscal_quarter_can) = 1 THEN 'year' ELSE fiscal_quarter_can END AS period,
       min(date_key) AS period_start, max(date_key) AS period_end, count(*) AS period_days
FROM dim_date GROUP BY GROUPING SETS ((fiscal_year_can, fiscal_quarter_can), (fiscal_year_can))
UNION ALL
SELECT 'USA', fiscal_year_us, CASE WHEN grouping(fiscal_quarter_us) = 1 THEN 'year' ELSE fiscal_quarter_us END,
       min(date_key), max(date_key), count(*)
FROM dim_date GROUP BY GROUPING SETS ((fiscal_year_us, fiscal_quarter_us), (fiscal_year_us));

-- Each day's fiscal year and quarter, in both calendars. The event totals below are counted
-- per day, agency and region first (a few thousand rows whatever the volume), then rolled up
-- to the periods from those: a grouping set over millions of events, twice (one per calendar)
-- and eight times (one per set), is what made this mart the slowest file of the build.
CREATE OR REPLACE TEMP TABLE ind_days AS
SELECT 'CAN' AS calendar, date_key, fiscal_year_can AS fiscal_year, fiscal_quarter_can AS quarter FROM dim_date
UNION ALL
SELECT 'USA', date_key, fiscal_year_us, fiscal_quarter_us FROM dim_date;

-- Both calendars side by side: each record appears once per calendar, with its quarter (for the
-- small program facts, rolled up directly).
CREATE OR REPLACE TEMP MACRO ind_calendars(t, d) AS TABLE
    SELECT 'CAN' AS calendar, fy_can(d) AS fiscal_year, fq_can(d) AS quarter, * FROM query_table(t)
    UNION ALL BY NAME
    SELECT 'USA' AS calendar, fy_us(d) AS fiscal_year, fq_us(d) AS quarter, * FROM query_table(t);

-- Persons linked across agencies, numbered: a distinct count of numbers is cheaper than one of
-- 64-character pseudonyms, and gives the same count.
CREATE OR REPLACE TEMP TABLE ind_linked AS
SELECT pseudonym AS person_key, row_number() OVER () AS linked_id
FROM mart_cross_agency_links WHERE link_type = 'person';

-- Every totals table has the same keys: calendar, fiscal_year, period, agency_code, region_code,
-- and the same coverage columns: data_first_day, data_last_day, agencies_reporting. Each is rolled
-- up by calendar and fiscal year with a CUBE of the rest: every combination of quarter (or the
-- whole year), agency (or ALL) and region (or ALL).
-- Counts and sums add up from the days; a distinct count (joint operations, linked persons) rolls
-- up from the distinct values of each day, and the median from the events themselves.
CREATE OR REPLACE TEMP TABLE ind_event_totals AS
WITH daily AS (
    SELECT event_date, agency_code, region_code,
           count(*) AS events_reported,
           count(intel_led) AS intel_flagged,
           count(*) FILTER (WHERE intel_led) AS intel_led_events,
           count(*) FILTER (WHERE is_interdiction) AS interdictions,
           sum(arrests) AS arrests,
           count(*) FILTER (WHERE agency_code = 'cbp' AND action = 'GOTAWAY') AS gotaways,
           count(*) FILTER (WHERE agency_code = 'cbp' AND action = 'APPREHENSION') AS crossings_interdicted,
           count(sharing_latency_hours) AS latency_known
    FROM fact_events GROUP BY ALL
),
sums AS (
    SELECT calendar, fiscal_year, CASE WHEN grouping(quarter) = 1 THEN 'year' ELSE quarter END AS period,
           CASE WHEN grouping(agency_code) = 1 THEN 'ALL' ELSE agency_code END AS agency_code,
           CASE WHEN grouping(region_code) = 1 THEN 'ALL' ELSE region_code END AS region_code,
           min(event_date) AS data_first_day, max(event_date) AS data_last_day,
           count(DISTINCT agency_code) AS agencies_reporting,
           CAST(sum(events_reported) AS BIGINT) AS events_reported,
           CAST(sum(intel_flagged) AS BIGINT) AS intel_flagged,
           CAST(sum(intel_led_events) AS BIGINT) AS intel_led_events,
           CAST(sum(interdictions) AS BIGINT) AS interdictions,
           sum(arrests) AS arrests,
           CAST(sum(gotaways) AS BIGINT) AS gotaways,
           CAST(sum(crossings_interdicted) AS BIGINT) AS crossings_interdicted,
           CAST(sum(latency_known) AS BIGINT) AS latency_known
    FROM daily JOIN ind_days ON date_key = event_date
    GROUP BY calendar, fiscal_year, CUBE (quarter, agency_code, region_code)
),
operations AS (
    SELECT calendar, fiscal_year, CASE WHEN grouping(quarter) = 1 THEN 'year' ELSE quarter END AS period,
           CASE WHEN grouping(agency_code) = 1 THEN 'ALL' ELSE agency_code END AS agency_code,
           CASE WHEN grouping(region_code) = 1 THEN 'ALL' ELSE region_code END AS region_code,
           count(DISTINCT joint_operation_key) AS joint_operations
    FROM (SELECT DISTINCT event_date, agency_code, region_code, joint_operation_key
          FROM fact_events WHERE joint_operation_key IS NOT NULL) AS o
    JOIN ind_days ON date_key = event_date
    GROUP BY calendar, fiscal_year, CUBE (quarter, agency_code, region_code)
),
latency AS (
    SELECT calendar, fiscal_year, CASE WHEN grouping(quarter) = 1 THEN 'year' ELSE quarter END AS period,
           CASE WHEN grouping(agency_code) = 1 THEN 'ALL' ELSE agency_code END AS agency_code,
           CASE WHEN grouping(region_code) = 1 THEN 'ALL' ELSE region_code END AS region_code,
           median(sharing_latency_hours) AS latency_median
    FROM (SELECT event_date, agency_code, region_code, sharing_latency_hours
          FROM fact_events WHERE sharing_latency_hours IS NOT NULL) AS l
    JOIN ind_days ON date_key = event_date
    GROUP BY calendar, fiscal_year, CUBE (quarter, agency_code, region_code)
)
SELECT s.*, coalesce(o.joint_operations, 0) AS joint_operations, l.latency_median
FROM sums AS s
LEFT JOIN operations AS o USING (calendar, fiscal_year, period, agency_code, region_code)
LEFT JOIN latency AS l USING (calendar, fiscal_year, period, agency_code, region_code);

-- A seizure's event has one day, agency and region: its distinct events per day add up.
CREATE OR REPLACE TEMP TABLE ind_seizure_totals AS
WITH daily AS (
    SELECT event_date, agency_code, region_code, count(DISTINCT event_uid) AS seizure_events,
           count(quantity_kg) AS kg_lines, sum(quantity_kg) AS seizure_kg,
           count(value_cad) AS value_lines, sum(value_cad) AS seizure_value_cad
    FROM fact_seizures GROUP BY ALL
)
SELECT calendar, fiscal_year, CASE WHEN grouping(quarter) = 1 THEN 'year' ELSE quarter END AS period,
       CASE WHEN grouping(agency_code) = 1 THEN 'ALL' ELSE agency_code END AS agency_code,
       CASE WHEN grouping(region_code) = 1 THEN 'ALL' ELSE region_code END AS region_code,
       min(event_date) AS data_first_day, max(event_date) AS data_last_day,
       count(DISTINCT agency_code) AS agencies_reporting,
       CAST(sum(seizure_events) AS BIGINT) AS seizure_events,
       CAST(sum(kg_lines) AS BIGINT) AS kg_lines, sum(seizure_kg) AS seizure_kg,
       CAST(sum(value_lines) AS BIGINT) AS value_lines, sum(seizure_value_cad) AS seizure_value_cad
FROM daily JOIN ind_days ON date_key = event_date
GROUP BY calendar, fiscal_year, CUBE (quarter, agency_code, region_code);

-- Linked persons are counted with bitmaps: within each calendar's fiscal year, every linked person
-- seen that year gets a number (a bit); the persons of a quarter, agency and region are a bitmap
-- of those bits, and any period's distinct count is the bits set in the OR of its bitmaps. Exact,
-- and a rollup of a few hundred bitmaps: a distinct count over every sighting in each of the eight
-- grouping sets was the slowest statement of the file. No set spans two fiscal years, so a bitmap
-- is as wide as the persons linked in the busiest year (ind_linked_bits), not in all of them.
CREATE OR REPLACE TEMP TABLE ind_linked_seen AS
SELECT DISTINCT calendar, fiscal_year, quarter, s.agency_code, s.region_code, l.linked_id
FROM (SELECT DISTINCT event_date, agency_code, region_code, person_key
      FROM fact_subject_sightings WHERE person_key IS NOT NULL) AS s
JOIN ind_linked AS l USING (person_key)
JOIN ind_days ON date_key = s.event_date;

CREATE OR REPLACE TEMP TABLE ind_linked_bit AS
SELECT calendar, fiscal_year, linked_id, row_number() OVER (PARTITION BY calendar, fiscal_year) AS bit
FROM (SELECT DISTINCT calendar, fiscal_year, linked_id FROM ind_linked_seen);

SET VARIABLE ind_linked_bits = (SELECT coalesce(max(bit), 1) FROM ind_linked_bit);

CREATE OR REPLACE TEMP TABLE ind_subject_totals AS
WITH coverage AS (
    SELECT calendar, fiscal_year, CASE WHEN grouping(quarter) = 1 THEN 'year' ELSE quarter END AS period,
           CASE WHEN grouping(agency_code) = 1 THEN 'ALL' ELSE agency_code END AS agency_code,
           CASE WHEN grouping(region_code) = 1 THEN 'ALL' ELSE region_code END AS region_code,
           min(event_date) AS data_first_day, max(event_date) AS data_last_day,
           count(DISTINCT agency_code) AS agencies_reporting
    FROM (SELECT DISTINCT event_date, agency_code, region_code FROM fact_subject_sightings) AS d
    JOIN ind_days ON date_key = event_date
    GROUP BY calendar, fiscal_year, CUBE (quarter, agency_code, region_code)
),
bitmaps AS (
    SELECT calendar, fiscal_year, quarter, agency_code, region_code,
           bitstring_agg(bit, 1, getvariable('ind_linked_bits')) AS persons
    FROM ind_linked_seen JOIN ind_linked_bit USING (calendar, fiscal_year, linked_id)
    GROUP BY ALL
),
linked AS (
    SELECT calendar, fiscal_year, CASE WHEN grouping(quarter) = 1 THEN 'year' ELSE quarter END AS period,
           CASE WHEN grouping(agency_code) = 1 THEN 'ALL' ELSE agency_code END AS agency_code,
           CASE WHEN grouping(region_code) = 1 THEN 'ALL' ELSE region_code END AS region_code,
           bit_count(bit_or(persons)) AS subjects_linked
    FROM bitmaps
    GROUP BY calendar, fiscal_year, CUBE (quarter, agency_code, region_code)
)
SELECT c.*, coalesce(l.subjects_linked, 0) AS subjects_linked
FROM coverage AS c LEFT JOIN linked AS l USING (calendar, fiscal_year, period, agency_code, region_code);

-- Program-level data is not attributed to one partner: agency_code is 'ALL'.
CREATE OR REPLACE TEMP TABLE ind_outreach_totals AS
SELECT calendar, fiscal_year, CASE WHEN grouping(quarter) = 1 THEN 'year' ELSE quarter END AS period,
       'ALL' AS agency_code, CASE WHEN grouping(region_code) = 1 THEN 'ALL' ELSE region_code END AS region_code,
       CASE WHEN grouping(program) = 1 THEN 'ALL' ELSE program END AS detail,
       min(event_date) AS data_first_day, max(event_date) AS data_last_day, NULL::BIGINT AS agencies_reporting,
       count(*) AS outreach_events, sum(attendees) AS attendance, sum(tips_received) AS tips
FROM ind_calendars(fact_outreach, event_date)
GROUP BY calendar, fiscal_year, CUBE (quarter, region_code, program);

CREATE OR REPLACE TEMP TABLE ind_radio_totals AS
SELECT calendar, fiscal_year, CASE WHEN grouping(quarter) = 1 THEN 'year' ELSE quarter END AS period,
       'ALL' AS agency_code, CASE WHEN grouping(region_code) = 1 THEN 'ALL' ELSE region_code END AS region_code,
       min(test_date) AS data_first_day, max(test_date) AS data_last_day, NULL::BIGINT AS agencies_reporting,
       count(*) AS radio_tests, count(*) FILTER (WHERE success) AS passed
FROM ind_calendars(fact_radio_tests, test_date)
GROUP BY calendar, fiscal_year, CUBE (quarter, region_code);

-- Spending is reported per Canadian fiscal year; every other period (a quarter, a US fiscal year)
-- gets each year's amounts spread evenly over its days. data_first_day..data_last_day are the
-- days of the period that a finance file covers.
CREATE OR REPLACE TEMP TABLE ind_spending AS
WITH daily AS (
    SELECT d.date_key, d.fiscal_year_can, d.fiscal_quarter_can, d.fiscal_year_us, d.fiscal_quarter_us,
           f.agency_code, f.planned_cad / fc.days AS planned, f.actual_cad / fc.days AS actual
    FROM fact_finance AS f
    JOIN dim_fiscal_year AS fc ON fc.calendar = 'CAN' AND fc.fiscal_year = f.fiscal_year_can
    JOIN dim_date AS d ON d.fiscal_year_can = f.fiscal_year_can
),
cal AS (
    SELECT 'CAN' AS calendar, fiscal_year_can AS fiscal_year, fiscal_quarter_can AS quarter, * FROM daily
    UNION ALL BY NAME
    SELECT 'USA' AS calendar, fiscal_year_us AS fiscal_year, fiscal_quarter_us AS quarter, * FROM daily
)
SELECT calendar, fiscal_year, CASE WHEN grouping(quarter) = 1 THEN 'year' ELSE quarter END AS period,
       CASE WHEN grouping(agency_code) = 1 THEN 'ALL' ELSE agency_code END AS agency_code, 'ALL' AS region_code,
       min(date_key) AS data_first_day, max(date_key) AS data_last_day,
       count(DISTINCT agency_code) AS agencies_reporting,
       round(sum(planned), 2) AS planned_cad, round(sum(actual), 2) AS actual_cad
FROM cal
GROUP BY calendar, fiscal_year, CUBE (quarter, agency_code);

CREATE OR REPLACE TABLE mart_indicators AS
WITH long_form AS (
    SELECT *, 'events_reported' AS indicator, '' AS detail, events_reported::DOUBLE AS value,
           events_reported AS basis_count, NULL AS note FROM ind_event_totals
    UNION ALL BY NAME SELECT *, 'joint_operations' AS indicator, '' AS detail, joint_operations AS value,
           joint_operations AS basis_count, NULL AS note FROM ind_event_totals WHERE joint_operations > 0
    UNION ALL BY NAME SELECT *, 'intel_led_share' AS indicator, '' AS detail,
           round(intel_led_events / intel_flagged, 4) AS value, intel_flagged AS basis_count,
           intel_led_events AS numerator, NULL AS note FROM ind_event_totals WHERE intel_flagged > 0
    UNION ALL BY NAME SELECT *, 'interdictions' AS indicator, '' AS detail, interdictions AS value,
           interdictions AS basis_count, NULL AS note FROM ind_event_totals
    UNION ALL BY NAME SELECT *, 'arrests' AS indicator, '' AS detail, arrests AS value, arrests AS basis_count,
           NULL AS note FROM ind_event_totals
    UNION ALL BY NAME SELECT *, 'median_sharing_latency_hours' AS indicator, '' AS detail,
           round(latency_median, 2) AS value, latency_known AS basis_count,
           'from the event to the arrival of the agency''s file' AS note FROM ind_event_totals WHERE latency_known > 0
    UNION ALL BY NAME SELECT *, 'gotaways' AS indicator, '' AS detail, gotaways AS value, gotaways AS basis_count,
           NULL AS note FROM ind_event_totals WHERE agency_code IN ('cbp', 'ALL')
    UNION ALL BY NAME SELECT *, 'interception_rate' AS indicator, '' AS detail,
           round(crossings_interdicted / (crossings_interdicted + gotaways), 4) AS value,
           crossings_interdicted + gotaways AS basis_count, crossings_interdicted AS numerator,
           'apprehension events / (apprehension + GOTAWAY events), CBP only' AS note
           FROM ind_event_totals WHERE agency_code IN ('cbp', 'ALL') AND crossings_interdicted + gotaways > 0
    UNION ALL BY NAME SELECT *, 'seizure_events' AS indicator, '' AS detail, seizure_events AS value,
           seizure_events AS basis_count, NULL AS note FROM ind_seizure_totals
    UNION ALL BY NAME SELECT *, 'seizure_kg' AS indicator, '' AS detail, round(seizure_kg, 3) AS value,
           kg_lines AS basis_count, NULL AS note FROM ind_seizure_totals WHERE kg_lines > 0
    UNION ALL BY NAME SELECT *, 'seizure_value_cad' AS indicator, '' AS detail, round(seizure_value_cad, 2) AS value,
           value_lines AS basis_count, NULL AS note FROM ind_seizure_totals WHERE value_lines > 0
    UNION ALL BY NAME SELECT *, 'subjects_linked' AS indicator, '' AS detail, subjects_linked AS value,
           subjects_linked AS basis_count, NULL AS note FROM ind_subject_totals
    UNION ALL BY NAME SELECT * EXCLUDE (detail), 'outreach_events' AS indicator, detail, outreach_events AS value,
           outreach_events AS basis_count, NULL AS note FROM ind_outreach_totals
    UNION ALL BY NAME SELECT * EXCLUDE (detail), 'outreach_attendance' AS indicator, detail, attendance AS value,
           outreach_events AS basis_count, NULL AS note FROM ind_outreach_totals
    UNION ALL BY NAME SELECT * EXCLUDE (detail), 'tips_received' AS indicator, detail, tips AS value,
           outreach_events AS basis_count, NULL AS note FROM ind_outreach_totals
    UNION ALL BY NAME SELECT *, 'radio_tests' AS indicator, '' AS detail, radio_tests AS value,
           radio_tests AS basis_count, NULL AS note FROM ind_radio_totals
    UNION ALL BY NAME SELECT *, 'radio_tests_passed' AS indicator, '' AS detail, passed AS value,
           radio_tests AS basis_count, NULL AS note FROM ind_radio_totals
    UNION ALL BY NAME SELECT *, 'radio_pass_rate' AS indicator, '' AS detail, round(passed / radio_tests, 4) AS value,
           radio_tests AS basis_count, passed AS numerator, NULL AS note FROM ind_radio_totals
    UNION ALL BY NAME SELECT *, 'planned_spending_cad' AS indicator, '' AS detail, planned_cad AS value,
           NULL AS basis_count, 'reported per Canadian fiscal year; other periods prorated by day' AS note
           FROM ind_spending
    UNION ALL BY NAME SELECT *, 'actual_spending_cad' AS indicator, '' AS detail, actual_cad AS value,
           NULL AS basis_count, 'reported per Canadian fiscal year; other periods prorated by day' AS note
           FROM ind_spending
    UNION ALL BY NAME SELECT *, 'spending_variance_cad' AS indicator, '' AS detail,
           round(actual_cad - planned_cad, 2) AS value, NULL AS basis_count, NULL AS note FROM ind_spending
    UNION ALL BY NAME SELECT *, 'spending_variance_pct' AS indicator, '' AS detail,
           round((actual_cad - planned_cad) / nullif(planned_cad, 0), 6) AS value, NULL AS basis_count,
           NULL AS note FROM ind_spending WHERE planned_cad <> 0
    -- cost per interdiction: the spending of the days the interdiction data cover, not the whole year's
    UNION ALL BY NAME SELECT e.calendar, e.fiscal_year, e.period, e.agency_code, e.region_code,
           e.data_first_day, e.data_last_day, e.agencies_reporting, 'cost_per_interdiction_cad' AS indicator,
           '' AS detail,
           round(s.actual_cad * (date_diff('day', e.data_first_day, e.data_last_day) + 1)
                 / (date_diff('day', s.data_first_day, s.data_last_day) + 1) / e.interdictions, 2) AS value,
           e.interdictions AS basis_count,
           printf('spending prorated to the %d days the interdiction data cover (%.1f%% of the spending days)',
                  date_diff('day', e.data_first_day, e.data_last_day) + 1,
                  100.0 * (date_diff('day', e.data_first_day, e.data_last_day) + 1)
                  / (date_diff('day', s.data_first_day, s.data_last_day) + 1)) AS note
           FROM ind_spending AS s
           JOIN ind_event_totals AS e USING (calendar, fiscal_year, period, agency_code)
           WHERE e.region_code = 'ALL' AND e.interdictions > 0
)
SELECT f.calendar, f.fiscal_year, f.period, f.agency_code, f.region_code, f.indicator, f.detail, f.value, d.unit,
       CAST(f.basis_count AS BIGINT) AS basis_count, CAST(f.numerator AS BIGINT) AS numerator,
       FALSE AS suppressed, f.note, p.period_start, p.period_end, f.data_first_day, f.data_last_day,
       round((date_diff('day', f.data_first_day, f.data_last_day) + 1) / p.period_days, 4) AS coverage_share,
       CAST(f.agencies_reporting AS INTEGER) AS agencies_reporting
FROM long_form AS f
JOIN dim_indicator AS d USING (indicator)
JOIN ind_periods AS p USING (calendar, fiscal_year, period)
WHERE f.value IS NOT NULL
ORDER BY f.calendar, f.fiscal_year, f.period, f.indicator, f.detail, f.agency_code, f.region_code;
COMMENT ON TABLE mart_indicators IS 'Every program performance indicator by calendar x fiscal year x period x agency x region (ALL = total), with the days its data cover.';
COMMENT ON COLUMN mart_indicators.calendar IS 'CAN (April-March, fiscal_year like 2006-07) or USA (October-September, like FY2007).';
COMMENT ON COLUMN mart_indicators.fiscal_year IS 'Fiscal-year label in that calendar.';
COMMENT ON COLUMN mart_indicators.period IS 'year, or the fiscal quarter Q1-Q4 of that calendar (CAN Q1 = April-June, USA Q1 = October-December).';
COMMENT ON COLUMN mart_indicators.agency_code IS 'Partner agency, or ALL for the total (and for program-level data).';
COMMENT ON COLUMN mart_indicators.region_code IS 'IBET region, or ALL for the total.';
COMMENT ON COLUMN mart_indicators.indicator IS 'Indicator code (dim_indicator).';
COMMENT ON COLUMN mart_indicators.detail IS 'Breakdown within the indicator (outreach program), empty when none; ALL = every program.';
COMMENT ON COLUMN mart_indicators.value IS 'The value, in unit; null when suppressed.';
COMMENT ON COLUMN mart_indicators.unit IS 'count, share (0-1), kg, CAD or hours.';
COMMENT ON COLUMN mart_indicators.basis_count IS 'Records the value rests on (null for spending figures); null when suppressed.';
COMMENT ON COLUMN mart_indicators.numerator IS 'For a share: the records counted in it (basis_count is the whole); null otherwise.';
COMMENT ON COLUMN mart_indicators.suppressed IS 'True when the value was withheld because it rests on fewer records than the threshold.';
COMMENT ON COLUMN mart_indicators.note IS 'How the value was obtained when that needs saying.';
COMMENT ON COLUMN mart_indicators.period_start IS 'First day of the period.';
COMMENT ON COLUMN mart_indicators.period_end IS 'Last day of the period.';
COMMENT ON COLUMN mart_indicators.data_first_day IS 'First day with data behind the value (for spending: of a finance file).';
COMMENT ON COLUMN mart_indicators.data_last_day IS 'Last day with data behind the value.';
COMMENT ON COLUMN mart_indicators.coverage_share IS 'Days from data_first_day to data_last_day as a share of the period: 1 = the whole period.';
COMMENT ON COLUMN mart_indicators.agencies_reporting IS 'Partner agencies whose records the value includes (null for program-level data).';

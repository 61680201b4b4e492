-- Program performance indicators (DOMAIN.md) in one long table:
-- calendar x fiscal_year x period (the year, or a quarter) x agency x region x indicator. Every
-- indicator is given in both fiscal calendars; agency_code / region_code 'ALL' are the totals
-- over agencies / regions. Each row says which days its data cover (data_first_day ..
-- data_last_day, coverage_share of the period) and how many agencies reported.
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
    ('cost_per_interdiction_cad', 'CAD', 'Actual spending prorated to the days the interdiction data cover, divided by interdictions.')
) AS t(indicator, unit, description);
COMMENT ON TABLE dim_indicator IS 'The program performance indicators, their units and definitions.';
COMMENT ON COLUMN dim_indicator.indicator IS 'Indicator code used in mart_indicators.';
COMMENT ON COLUMN dim_indicator.unit IS 'count, share (0-1), kg, CAD or hours.';
COMMENT ON COLUMN dim_indicator.description IS 'Definition.';

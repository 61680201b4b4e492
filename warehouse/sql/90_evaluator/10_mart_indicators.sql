-- The evaluator's indicators: aggregates only, read from the full (all shareable caveats)
-- build attached as `work`. The tables copied unchanged beside it are listed in
-- 00_copied_tables.yml; no event-level or person-level table, and no pseudonym, is copied.
--
-- Primary suppression here; complementary suppression (no withheld cell recoverable from the
-- published margins) follows in warehouse/suppression.py. A share is withheld when it rests on
-- fewer records than the threshold, or when its numerator or its complement is below it (a rate
-- times its basis would give the count back); its numerator is never published.
CREATE OR REPLACE TABLE mart_indicators AS
SELECT calendar, fiscal_year, period, agency_code, region_code, indicator, detail,
       CASE WHEN hidden THEN NULL ELSE value END AS value, unit,
       CASE WHEN hidden THEN NULL ELSE basis_count END AS basis_count,
       hidden AS suppressed, note, period_start, period_end, data_first_day, data_last_day, coverage_share,
       agencies_reporting
FROM (
    SELECT *, coalesce(basis_count < ibet_suppression_threshold(), FALSE)
              OR (unit = 'count' AND value < ibet_suppression_threshold())
              OR coalesce(numerator < ibet_suppression_threshold()
                          OR basis_count - numerator < ibet_suppression_threshold(), FALSE) AS hidden
    FROM work.mart_indicators
)
ORDER BY calendar, fiscal_year, period, indicator, detail, agency_code, region_code;
COMMENT ON COLUMN mart_indicators.suppressed IS 'True when the value was withheld: a count below the threshold, a value resting on fewer records than the threshold, a share whose numerator or complement is below it (primary), or a cell withheld so that none of those can be worked out from the totals (complementary).';

CREATE OR REPLACE TABLE fact_seizures AS
SELECT s.event_uid, s.seizure_seq, e.agency_code, e.event_date, e.fiscal_year_can, e.fiscal_year_us, e.region_code,
       s.commodity, s.category, s.quantity_kg, s.quantity_units, s.value AS value_original, s.currency,
       CASE s.currency WHEN 'CAD' THEN 1.0 WHEN 'USD' THEN fx.usd_to_cad END AS to_cad_rate,
       round(s.value * to_cad_rate, 2) AS value_cad, s.caveat
FROM stg_seizures AS s
JOIN fact_events AS e USING (event_uid)
LEFT JOIN ref_fx_rates AS fx ON fx.fiscal_year = e.fiscal_year_can
ORDER BY e.event_date, s.event_uid, s.seizure_seq;
COMMENT ON TABLE fact_seizures IS 'One row per seized goods line of an event.';
COMMENT ON COLUMN fact_seizures.event_uid IS 'The event (fact_events).';
COMMENT ON COLUMN fact_seizures.seizure_seq IS 'Line number within the event.';
COMMENT ON COLUMN fact_seizures.agency_code IS 'Reporting agency.';
COMMENT ON COLUMN fact_seizures.event_date IS 'UTC date of the event.';
COMMENT ON COLUMN fact_seizures.fiscal_year_can IS 'Canadian fiscal year of the event.';
COMMENT ON COLUMN fact_seizures.fiscal_year_us IS 'US fiscal year of the event.';
COMMENT ON COLUMN fact_seizures.region_code IS 'IBET region of the event.';
COMMENT ON COLUMN fact_seizures.commodity IS 'Commodity (dim_commodity); UNSPECIFIED when only a value was reported.';
COMMENT ON COLUMN fact_seizures.category IS 'Threat category of the goods.';
COMMENT ON COLUMN fact_seizures.quantity_kg IS 'Mass in kilograms (pounds and grams converted).';
COMMENT ON COLUMN fact_seizures.quantity_units IS 'Count of items for counted goods (firearms).';
COMMENT ON COLUMN fact_seizures.value_original IS 'Value as reported, in currency.';
COMMENT ON COLUMN fact_seizures.currency IS 'Currency of value_original: CAD or USD.';
COMMENT ON COLUMN fact_seizures.to_cad_rate IS 'Rate applied: 1 for CAD, ref_fx_rates.usd_to_cad of the fiscal year for USD.';
COMMENT ON COLUMN fact_seizures.value_cad IS 'Value in CAD at the stated rate of the fiscal year; null when no rate is stated.';
COMMENT ON COLUMN fact_seizures.caveat IS 'Releasability of the line.';

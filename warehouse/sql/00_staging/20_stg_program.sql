-- Staging of program-level data (no caveat: program figures are shared with every audience).
-- A finance file is re-sent when corrected and replaces its fiscal-year partition in the lake;
-- outreach events and radio tests keep their latest extract when an id is sent twice.
CREATE OR REPLACE TEMP VIEW stg_finance AS
SELECT * FROM staged.stg_finance;

CREATE OR REPLACE TEMP VIEW stg_outreach AS
SELECT * FROM staged.stg_outreach
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY extract_date DESC) = 1;

CREATE OR REPLACE TEMP VIEW stg_radio_tests AS
SELECT * FROM staged.stg_radio_tests
QUALIFY row_number() OVER (PARTITION BY test_id ORDER BY extract_date DESC) = 1;

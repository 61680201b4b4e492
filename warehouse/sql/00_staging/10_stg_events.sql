-- Staging: the staged lake rows as this audience may see them (temporary views, not published).
--
-- ICE sends a case again every day it is touched: the latest extract of an event_uid wins,
-- and the caveat of that latest version decides visibility (a case re-marked ORCON
-- disappears everywhere, its older REL_IBET version is not shown instead).
-- received_at is when the agency's file carrying that record first arrived (its arrival in
-- the inbox, kept across corrected re-sends); lakes written before it was recorded fall back
-- to when the file was first ingested.
CREATE OR REPLACE TEMP VIEW stg_events AS
SELECT * EXCLUDE (version_rank)
FROM (
    SELECT e.* REPLACE (coalesce(e.received_at, m.first_ingested_at) AS received_at),
           row_number() OVER (PARTITION BY e.event_uid ORDER BY e.extract_date DESC, e.source_row DESC) AS version_rank,
           count(*) OVER (PARTITION BY e.event_uid) AS versions
    FROM staged.stg_events AS e
    LEFT JOIN staged.stg_manifest AS m ON m.agency = e.agency AND m.file = e.source_file
)
WHERE version_rank = 1 AND visible(caveat);

-- Child records belong to the version of their event that won above.
CREATE OR REPLACE TEMP VIEW stg_subjects AS
SELECT c.* FROM staged.stg_subjects AS c
JOIN stg_events AS e ON e.event_uid = c.event_uid AND e.extract_date = c.extract_date
WHERE visible(c.caveat);

CREATE OR REPLACE TEMP VIEW stg_seizures AS
SELECT c.* FROM staged.stg_seizures AS c
JOIN stg_events AS e ON e.event_uid = c.event_uid AND e.extract_date = c.extract_date
WHERE visible(c.caveat);

CREATE OR REPLACE TEMP VIEW stg_conveyances AS
SELECT c.* FROM staged.stg_conveyances AS c
JOIN stg_events AS e ON e.event_uid = c.event_uid AND e.extract_date = c.extract_date
WHERE visible(c.caveat);

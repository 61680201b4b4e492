-- Staging: the staged lake rows as this audience may see them (temporary views, not published).
--
-- ICE sends a case again every day it is touched: the latest extract of an event_uid wins,
-- and the caveat of that latest version decides visibility (a case re-marked ORCON
-- disappears everywhere, its older REL_IBET version is not shown instead). Which staged row
-- is each event's latest version, and how many versions there are, the staging refresh keeps
-- in stg_latest (warehouse/staging.py: latest_sql), for the events each refresh touches.
-- received_at is when the agency's file carrying that record first arrived (its arrival in
-- the inbox, kept across corrected re-sends); lakes written before it was recorded fall back
-- to when the file was first ingested.
CREATE OR REPLACE TEMP VIEW stg_events AS
SELECT e.* REPLACE (coalesce(e.received_at, m.first_ingested_at) AS received_at), l.versions
FROM staged.stg_events AS e
JOIN staged.stg_latest AS l
  ON l.event_uid = e.event_uid AND l._partition = e._partition AND l.source_row = e.source_row
LEFT JOIN staged.stg_manifest AS m ON m.agency = e.agency AND m.file = e.source_file
WHERE visible(e.caveat);

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

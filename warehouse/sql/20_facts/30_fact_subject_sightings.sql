CREATE OR REPLACE TABLE fact_subject_sightings AS
SELECT s.event_uid, s.subject_seq, e.agency_code, e.occurred_at, e.event_date, e.region_code, s.role,
       s.person_key, s.document_key, s.document_type, s.document_issuer, s.anumber_key,
       s.birth_year, s.sex, s.nationality, s.caveat, s.name_mixed_script
FROM stg_subjects AS s
JOIN fact_events AS e USING (event_uid)
ORDER BY e.event_date, s.event_uid, s.subject_seq;
COMMENT ON TABLE fact_subject_sightings IS 'One row per person named in an event: pseudonyms and generalized attributes only.';
COMMENT ON COLUMN fact_subject_sightings.event_uid IS 'The event (fact_events).';
COMMENT ON COLUMN fact_subject_sightings.subject_seq IS 'Person number within the event.';
COMMENT ON COLUMN fact_subject_sightings.agency_code IS 'Reporting agency.';
COMMENT ON COLUMN fact_subject_sightings.occurred_at IS 'When the event happened, UTC.';
COMMENT ON COLUMN fact_subject_sightings.event_date IS 'UTC date of the event.';
COMMENT ON COLUMN fact_subject_sightings.region_code IS 'IBET region of the event.';
COMMENT ON COLUMN fact_subject_sightings.role IS 'Role of the person in the event (SUBJECT, MASTER).';
COMMENT ON COLUMN fact_subject_sightings.person_key IS 'Keyed pseudonym (HMAC-SHA256) of surname + first given name + date of birth, transliterated to Latin letters: equal across agencies for the same person.';
COMMENT ON COLUMN fact_subject_sightings.document_key IS 'Keyed pseudonym of the issuing country and the travel-document number (ICE names no issuer: the nationality is used).';
COMMENT ON COLUMN fact_subject_sightings.document_type IS 'PASSPORT, NEXUS or PR_CARD.';
COMMENT ON COLUMN fact_subject_sightings.document_issuer IS 'Issuing country, ISO 3166 alpha-3.';
COMMENT ON COLUMN fact_subject_sightings.anumber_key IS 'Keyed pseudonym of the US alien registration number.';
COMMENT ON COLUMN fact_subject_sightings.birth_year IS 'Year of birth (date of birth generalized).';
COMMENT ON COLUMN fact_subject_sightings.sex IS 'M, F or X when reported.';
COMMENT ON COLUMN fact_subject_sightings.nationality IS 'ISO 3166 alpha-3.';
COMMENT ON COLUMN fact_subject_sightings.caveat IS 'Releasability of the record.';
COMMENT ON COLUMN fact_subject_sightings.name_mixed_script IS 'True when the reported name mixed Latin letters with look-alike Cyrillic or Greek ones (folded to Latin before keying): a keying error or a spoof to look at.';

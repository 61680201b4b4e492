-- Which joint operations produced what? A named operation groups its events; a
-- ShipRider patrol or a BEST / multi-partner ICE case is a joint operation of its own.
CREATE OR REPLACE TABLE mart_joint_operations AS
WITH ops AS (
    SELECT * FROM fact_events WHERE joint_operation_key IS NOT NULL
),
seized AS (
    SELECT e.joint_operation_key, count(*) AS seizure_lines, round(sum(s.quantity_kg), 3) AS seized_kg,
           round(sum(s.value_cad), 2) AS seized_value_cad
    FROM fact_seizures AS s JOIN ops AS e USING (event_uid)
    GROUP BY ALL
)
SELECT o.joint_operation_key AS operation_id,
       CASE WHEN any_value(o.joint_operation_id) IS NOT NULL THEN 'named joint operation'
            WHEN any_value(o.agency_code) = 'uscg' THEN 'ShipRider patrol'
            WHEN any_value(o.agency_code) = 'ice' THEN 'BEST / multi-partner case'
            ELSE 'joint event' END AS operation_kind,
       string_agg(DISTINCT o.agency_code, ',' ORDER BY o.agency_code) AS reporting_agencies,
       string_agg(DISTINCT o.region_code, ',' ORDER BY o.region_code) AS regions,
       min(o.event_date) AS first_date, max(o.event_date) AS last_date,
       count(*) AS events, count(*) FILTER (WHERE o.is_interdiction) AS interdictions,
       sum(o.arrests) AS arrests, sum(o.persons_count) AS persons,
       coalesce(any_value(s.seizure_lines), 0) AS seizure_lines,
       coalesce(any_value(s.seized_kg), 0) AS seized_kg,
       coalesce(any_value(s.seized_value_cad), 0) AS seized_value_cad
FROM ops AS o LEFT JOIN seized AS s USING (joint_operation_key)
GROUP BY o.joint_operation_key
ORDER BY events DESC, operation_id;
COMMENT ON TABLE mart_joint_operations IS 'Joint operations and what they produced.';
COMMENT ON COLUMN mart_joint_operations.operation_id IS 'joint_operation_id, or the event uid of a ShipRider patrol / joint ICE case.';
COMMENT ON COLUMN mart_joint_operations.operation_kind IS 'named joint operation, ShipRider patrol, BEST / multi-partner case.';
COMMENT ON COLUMN mart_joint_operations.reporting_agencies IS 'Agencies whose reports carry the operation.';
COMMENT ON COLUMN mart_joint_operations.regions IS 'Regions of its events.';
COMMENT ON COLUMN mart_joint_operations.first_date IS 'First event date.';
COMMENT ON COLUMN mart_joint_operations.last_date IS 'Last event date.';
COMMENT ON COLUMN mart_joint_operations.events IS 'Events reported under it.';
COMMENT ON COLUMN mart_joint_operations.interdictions IS 'Of which interdictions.';
COMMENT ON COLUMN mart_joint_operations.arrests IS 'Persons arrested or apprehended.';
COMMENT ON COLUMN mart_joint_operations.persons IS 'Persons involved.';
COMMENT ON COLUMN mart_joint_operations.seizure_lines IS 'Goods lines seized.';
COMMENT ON COLUMN mart_joint_operations.seized_kg IS 'Mass seized, kg.';
COMMENT ON COLUMN mart_joint_operations.seized_value_cad IS 'Value seized, CAD.';

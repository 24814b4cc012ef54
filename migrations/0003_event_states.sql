-- What the event engine reads for a batch of keys, taken after the keys' advisory locks. A plain statement
-- cannot both wait for a lock and see what the lock holder committed (its snapshot predates the wait);
-- each statement of a VOLATILE PL/pgSQL function takes a fresh snapshot, so the read below sees every
-- commit made before the locks were granted. One round trip instead of two on the hot ingest path.
CREATE FUNCTION event_states(lock_keys text[], sources text[], dedup_keys text[], id_sources text[], external_ids text[])
RETURNS json LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  -- Sorted, so batches sharing keys queue instead of deadlocking
  PERFORM pg_advisory_xact_lock(h)
  FROM (SELECT DISTINCT hashtextextended(k, 7) AS h FROM unnest(lock_keys) AS k ORDER BY 1) AS locks;
  RETURN json_build_object(
    'alerts', (SELECT coalesce(json_agg(x), '[]'::json) FROM (
      SELECT a.*, t.number AS incident_number, t.status AS incident_status, t.resolved_at AS incident_resolved_at
      FROM (SELECT DISTINCT ON (source, dedup_key) * FROM event_alerts
            WHERE (source, dedup_key) IN (SELECT * FROM unnest(sources, dedup_keys))
            ORDER BY source, dedup_key, id DESC) AS a
      JOIN tickets t ON t.id = a.incident_id) AS x),
    'prior', (SELECT coalesce(json_agg(y), '[]'::json) FROM (
      SELECT e.id, e.source, e.external_id, e.action, e.reason, e.alert_id, e.incident_id, t.number
      FROM monitoring_events e LEFT JOIN tickets t ON t.id = e.incident_id
      WHERE cardinality(external_ids) > 0
        AND e.source = ANY(id_sources) AND e.external_id = ANY(external_ids)) AS y));
END
$$;

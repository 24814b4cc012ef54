-- hand-written
-- Tickets reclassified before 0008 kept their old number only in the audit trail (the `number` change of
-- their reclassification, old value such as 'INC-000012'). Give each of them its former-number row so the
-- old number finds the ticket again. Idempotent: numbers already recorded are left as they are.
INSERT INTO "ticket_former_numbers" ("kind", "number", "ticket_id", "created_at")
SELECT DISTINCT ON (f.kind, f.number) f.kind, f.number, f.ticket_id, f.at
FROM (
  SELECT CASE substr(c.old, 1, 3)
           WHEN 'INC' THEN 'incident'
           WHEN 'REQ' THEN 'request'
           WHEN 'PRB' THEN 'problem'
           WHEN 'CHG' THEN 'change'
           WHEN 'REL' THEN 'release'
         END AS kind,
         substr(c.old, 5)::bigint AS number,
         a.entity_id AS ticket_id,
         a.at
  FROM "audit_log" a
  CROSS JOIN LATERAL (
    SELECT e ->> 'old' AS old
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(a.changes) = 'array' THEN a.changes ELSE '[]'::jsonb END) AS e
    WHERE e ->> 'field' = 'number' AND jsonb_typeof(e -> 'old') = 'string'
  ) c
  WHERE a.entity_type = 'ticket' AND c.old ~ '^(INC|REQ|PRB|CHG|REL)-[0-9]{1,10}$'
) f
JOIN "tickets" t ON t.id = f.ticket_id
WHERE f.number BETWEEN 1 AND 2147483647
ORDER BY f.kind, f.number, f.at
ON CONFLICT ("kind", "number") DO NOTHING;
--> statement-breakpoint
-- hand-written
-- Workflows now flag the status an owner moves a ticket to (`onAssign`) instead of the core assuming the
-- key 'assigned'. Stored workflows that flag none keep their behaviour: their open, non-initial status
-- keyed 'assigned' is flagged. Idempotent: a workflow that flags any status is left as it is.
UPDATE "workflows" w
SET "definition" = jsonb_set(
  w."definition",
  '{statuses}',
  (SELECT jsonb_agg(CASE WHEN e.s ->> 'key' = 'assigned' THEN e.s || '{"onAssign": true}'::jsonb ELSE e.s END
                    ORDER BY e.i)
   FROM jsonb_array_elements(w."definition" -> 'statuses') WITH ORDINALITY AS e(s, i))
)
WHERE jsonb_typeof(w."definition" -> 'statuses') = 'array'
  AND w."definition" ->> 'initial' IS DISTINCT FROM 'assigned'
  AND EXISTS (SELECT 1 FROM jsonb_array_elements(w."definition" -> 'statuses') AS s
              WHERE s ->> 'key' = 'assigned' AND s ->> 'phase' = 'open')
  AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(w."definition" -> 'statuses') AS s WHERE s ? 'onAssign');

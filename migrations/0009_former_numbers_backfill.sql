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

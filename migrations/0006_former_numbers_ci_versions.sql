CREATE TABLE "ticket_former_numbers" (
	"kind" text NOT NULL,
	"number" integer NOT NULL,
	"ticket_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ticket_former_numbers_kind_number_pk" PRIMARY KEY("kind","number")
);
--> statement-breakpoint
ALTER TABLE "configuration_items" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "ticket_former_numbers" ADD CONSTRAINT "ticket_former_numbers_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ticket_former_numbers_ticket_idx" ON "ticket_former_numbers" USING btree ("ticket_id");--> statement-breakpoint
-- Tickets reclassified before this migration: their former numbers are in the audit trail
INSERT INTO "ticket_former_numbers" ("kind", "number", "ticket_id", "created_at")
SELECT CASE split_part(c->>'old', '-', 1)
         WHEN 'INC' THEN 'incident' WHEN 'REQ' THEN 'request' WHEN 'PRB' THEN 'problem'
         WHEN 'CHG' THEN 'change' WHEN 'REL' THEN 'release' END,
       split_part(c->>'old', '-', 2)::integer, a."entity_id", a."at"
FROM "audit_log" a CROSS JOIN LATERAL jsonb_array_elements(a."changes") c
WHERE a."entity_type" = 'ticket' AND a."action" = 'reclassified' AND c->>'field' = 'number'
  AND c->>'old' ~ '^(INC|REQ|PRB|CHG|REL)-[0-9]{1,9}$'
  AND EXISTS (SELECT 1 FROM "tickets" t WHERE t."id" = a."entity_id")
ON CONFLICT DO NOTHING;

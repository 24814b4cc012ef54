CREATE TABLE "sla_escalation_firings" (
	"id" uuid PRIMARY KEY NOT NULL,
	"clock_id" uuid NOT NULL,
	"run" integer NOT NULL,
	"percent" integer NOT NULL,
	"clock" text NOT NULL,
	"ticket_id" uuid NOT NULL,
	"sla_id" uuid,
	"actions" jsonb NOT NULL,
	"fired_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "slas" ADD COLUMN "escalations" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "sla_escalation_firings" ADD CONSTRAINT "sla_escalation_firings_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sla_escalation_firings" ADD CONSTRAINT "sla_escalation_firings_sla_id_slas_id_fk" FOREIGN KEY ("sla_id") REFERENCES "public"."slas"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "sla_escalation_firings_uq" ON "sla_escalation_firings" USING btree ("clock_id","run","percent");--> statement-breakpoint
CREATE INDEX "sla_escalation_firings_ticket_idx" ON "sla_escalation_firings" USING btree ("ticket_id");--> statement-breakpoint
-- hand-written below
-- Wake the schedulers early (LISTEN work_items): after a statement writes claimable rows (no lease,
-- live) due within the minute, notify the earliest due time in ms since the epoch. Sent on commit;
-- repeats within a transaction fold into one. Claims and lease renewals write leased rows: no notice.
CREATE FUNCTION work_items_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE soonest timestamptz;
BEGIN
  SELECT min(due_at) INTO soonest FROM changed WHERE dead_at IS NULL AND lease_token IS NULL;
  IF soonest IS NOT NULL AND soonest <= now() + interval '1 minute' THEN
    PERFORM pg_notify('work_items', floor(extract(epoch FROM soonest) * 1000)::bigint::text);
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER work_items_notify_insert AFTER INSERT ON work_items REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION work_items_notify();--> statement-breakpoint
CREATE TRIGGER work_items_notify_update AFTER UPDATE ON work_items REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION work_items_notify();--> statement-breakpoint
-- Escalation notices name their recipients (payload userIds, resolved when the threshold fires):
-- the users audience tells them by mail; admins may edit or disable these rules.
INSERT INTO "notification_rules" ("id", "event", "audience", "channel", "kinds", "max_priority") VALUES
  (gen_random_uuid(), 'sla.warning', 'users', 'mail', NULL, NULL),
  (gen_random_uuid(), 'sla.breach', 'users', 'mail', NULL, NULL)
ON CONFLICT DO NOTHING;

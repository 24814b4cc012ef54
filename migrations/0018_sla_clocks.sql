CREATE TABLE "sla_clocks" (
	"id" uuid PRIMARY KEY NOT NULL,
	"ticket_id" uuid NOT NULL,
	"agreement" text NOT NULL,
	"target" text NOT NULL,
	"sla_id" uuid,
	"ola_id" uuid,
	"team_id" uuid,
	"calendar_id" uuid NOT NULL,
	"priority" integer NOT NULL,
	"target_minutes" integer NOT NULL,
	"run" integer DEFAULT 1 NOT NULL,
	"state" text NOT NULL,
	"started_at" timestamp (3) with time zone NOT NULL,
	"running_since" timestamp (3) with time zone,
	"elapsed_minutes" double precision DEFAULT 0 NOT NULL,
	"due_at" timestamp (3) with time zone,
	"breached_at" timestamp (3) with time zone,
	"stopped_at" timestamp (3) with time zone,
	"paused_by" text,
	"segments" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"escalations" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sla_clocks" ADD CONSTRAINT "sla_clocks_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sla_clocks" ADD CONSTRAINT "sla_clocks_sla_id_slas_id_fk" FOREIGN KEY ("sla_id") REFERENCES "public"."slas"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sla_clocks" ADD CONSTRAINT "sla_clocks_ola_id_olas_id_fk" FOREIGN KEY ("ola_id") REFERENCES "public"."olas"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sla_clocks" ADD CONSTRAINT "sla_clocks_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sla_clocks" ADD CONSTRAINT "sla_clocks_calendar_id_calendars_id_fk" FOREIGN KEY ("calendar_id") REFERENCES "public"."calendars"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "sla_clocks_ticket_uq" ON "sla_clocks" USING btree ("ticket_id","agreement","target",coalesce("team_id", '00000000-0000-0000-0000-000000000000'::uuid));--> statement-breakpoint
CREATE INDEX "sla_clocks_due_idx" ON "sla_clocks" USING btree ("agreement","target","due_at");--> statement-breakpoint
CREATE INDEX "sla_clocks_sla_idx" ON "sla_clocks" USING btree ("sla_id");--> statement-breakpoint
CREATE INDEX "sla_clocks_ola_idx" ON "sla_clocks" USING btree ("ola_id");
CREATE TABLE "detected_problems" (
	"rule_id" uuid NOT NULL,
	"group_key" text NOT NULL,
	"problem_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "event_alerts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"dedup_key" text NOT NULL,
	"family" text,
	"state" text NOT NULL,
	"last_status" text NOT NULL,
	"severity" text NOT NULL,
	"summary" text NOT NULL,
	"incident_id" uuid NOT NULL,
	"ci_id" uuid,
	"team_id" uuid,
	"routing_rule_id" uuid,
	"previous_alert_id" uuid,
	"occurrences" integer DEFAULT 1 NOT NULL,
	"episode_start" timestamp (3) with time zone NOT NULL,
	"first_seen_at" timestamp (3) with time zone NOT NULL,
	"last_seen_at" timestamp (3) with time zone NOT NULL,
	"ended_at" timestamp (3) with time zone,
	"flapping" boolean DEFAULT false NOT NULL,
	"state_changes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"last_change_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "event_routing_rules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"position" integer NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"match" jsonb NOT NULL,
	"team_id" uuid,
	"impact" smallint,
	"urgency" smallint,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "event_settings" (
	"id" smallint PRIMARY KEY NOT NULL,
	"settings" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "monitoring_events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"dedup_key" text NOT NULL,
	"family" text,
	"external_id" text,
	"status" text NOT NULL,
	"severity" text NOT NULL,
	"summary" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"ci_id" uuid,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"received_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"received_by" uuid,
	"alert_id" uuid,
	"incident_id" uuid,
	"action" text NOT NULL,
	"reason" text NOT NULL,
	"matched_by" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple', coalesce(summary, '') || ' ' || coalesce(dedup_key, ''))) STORED
);
--> statement-breakpoint
CREATE TABLE "problem_rules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"group_by" text NOT NULL,
	"threshold" integer NOT NULL,
	"window_minutes" integer NOT NULL,
	"source" text,
	"team_id" uuid,
	"last_run_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "detected_problems" ADD CONSTRAINT "detected_problems_rule_id_problem_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."problem_rules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "detected_problems" ADD CONSTRAINT "detected_problems_problem_id_tickets_id_fk" FOREIGN KEY ("problem_id") REFERENCES "public"."tickets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_alerts" ADD CONSTRAINT "event_alerts_incident_id_tickets_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."tickets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_alerts" ADD CONSTRAINT "event_alerts_ci_id_configuration_items_id_fk" FOREIGN KEY ("ci_id") REFERENCES "public"."configuration_items"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_alerts" ADD CONSTRAINT "event_alerts_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_routing_rules" ADD CONSTRAINT "event_routing_rules_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "monitoring_events" ADD CONSTRAINT "monitoring_events_received_by_users_id_fk" FOREIGN KEY ("received_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "problem_rules" ADD CONSTRAINT "problem_rules_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "detected_problems_uq" ON "detected_problems" USING btree ("rule_id","group_key","problem_id");--> statement-breakpoint
CREATE INDEX "detected_problems_problem_idx" ON "detected_problems" USING btree ("problem_id");--> statement-breakpoint
CREATE UNIQUE INDEX "event_alerts_open_uq" ON "event_alerts" USING btree ("source","dedup_key") WHERE state = 'open';--> statement-breakpoint
CREATE INDEX "event_alerts_key_idx" ON "event_alerts" USING btree ("source","dedup_key","id");--> statement-breakpoint
CREATE INDEX "event_alerts_incident_idx" ON "event_alerts" USING btree ("incident_id");--> statement-breakpoint
CREATE INDEX "event_alerts_flapping_idx" ON "event_alerts" USING btree ("last_change_at") WHERE flapping;--> statement-breakpoint
CREATE UNIQUE INDEX "event_routing_rules_name_uq" ON "event_routing_rules" USING btree ("name");--> statement-breakpoint
CREATE INDEX "event_routing_rules_position_idx" ON "event_routing_rules" USING btree ("position");--> statement-breakpoint
CREATE UNIQUE INDEX "monitoring_events_external_uq" ON "monitoring_events" USING btree ("source","external_id") WHERE external_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX "monitoring_events_received_idx" ON "monitoring_events" USING btree ("received_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "monitoring_events_key_idx" ON "monitoring_events" USING btree ("source","dedup_key","received_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "monitoring_events_incident_idx" ON "monitoring_events" USING btree ("incident_id","received_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "monitoring_events_alert_idx" ON "monitoring_events" USING btree ("alert_id","received_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "monitoring_events_search_idx" ON "monitoring_events" USING gin ("search");--> statement-breakpoint
CREATE UNIQUE INDEX "problem_rules_name_uq" ON "problem_rules" USING btree ("name");
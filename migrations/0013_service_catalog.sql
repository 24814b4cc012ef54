CREATE TABLE "services" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"status" text DEFAULT 'live' NOT NULL,
	"owner_team_id" uuid,
	"support_team_id" uuid,
	"hours_calendar_id" uuid,
	"customer_visible" boolean DEFAULT false NOT NULL,
	"organisation_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "catalog_offerings" ADD COLUMN "service_id" uuid;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "service_id" uuid;--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_owner_team_id_teams_id_fk" FOREIGN KEY ("owner_team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_support_team_id_teams_id_fk" FOREIGN KEY ("support_team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_hours_calendar_id_calendars_id_fk" FOREIGN KEY ("hours_calendar_id") REFERENCES "public"."calendars"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "services_name_uq" ON "services" USING btree (lower("name"));--> statement-breakpoint
CREATE INDEX "services_organisations_idx" ON "services" USING gin ("organisation_ids");--> statement-breakpoint
ALTER TABLE "catalog_offerings" ADD CONSTRAINT "catalog_offerings_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "catalog_offerings_service_idx" ON "catalog_offerings" USING btree ("service_id");--> statement-breakpoint
CREATE INDEX "tickets_service_idx" ON "tickets" USING btree ("service_id");
CREATE TABLE "olas" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"team_id" uuid NOT NULL,
	"calendar_id" uuid NOT NULL,
	"targets" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"sla_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "slas" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"calendar_id" uuid NOT NULL,
	"order" integer DEFAULT 0 NOT NULL,
	"service_id" uuid,
	"organisation_id" uuid,
	"kind" text,
	"priority" integer,
	"targets" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"response_met_by" text DEFAULT 'first_public_reply' NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "olas" ADD CONSTRAINT "olas_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "olas" ADD CONSTRAINT "olas_calendar_id_calendars_id_fk" FOREIGN KEY ("calendar_id") REFERENCES "public"."calendars"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "slas" ADD CONSTRAINT "slas_calendar_id_calendars_id_fk" FOREIGN KEY ("calendar_id") REFERENCES "public"."calendars"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "slas" ADD CONSTRAINT "slas_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "slas" ADD CONSTRAINT "slas_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "olas_name_uq" ON "olas" USING btree (lower("name"));--> statement-breakpoint
CREATE INDEX "olas_slas_idx" ON "olas" USING gin ("sla_ids");--> statement-breakpoint
CREATE UNIQUE INDEX "slas_name_uq" ON "slas" USING btree (lower("name"));
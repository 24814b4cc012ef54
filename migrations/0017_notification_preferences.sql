CREATE TABLE "organisation_notification_contacts" (
	"organisation_id" uuid PRIMARY KEY NOT NULL,
	"user_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "notification_preferences" ADD COLUMN "event_channels" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_preferences" ADD COLUMN "quiet_channels" text[] DEFAULT '{sms}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "organisation_notification_contacts" ADD CONSTRAINT "organisation_notification_contacts_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;
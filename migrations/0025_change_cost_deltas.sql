CREATE TABLE "change_cost_deltas" (
	"id" uuid PRIMARY KEY NOT NULL,
	"change_id" uuid NOT NULL,
	"action" text NOT NULL,
	"ci_id" uuid,
	"recurrence" text,
	"currency" text,
	"amount" numeric(20, 4),
	"effective_month" date NOT NULL,
	"cost_centre_id" uuid,
	"service_id" uuid,
	"description" text DEFAULT '' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "change_cost_deltas_shape_ck" CHECK (("change_cost_deltas"."action" = 'add' and "change_cost_deltas"."amount" is not null and "change_cost_deltas"."currency" is not null and "change_cost_deltas"."recurrence" is not null)
        or ("change_cost_deltas"."action" = 'retire' and "change_cost_deltas"."ci_id" is not null and "change_cost_deltas"."amount" is null)),
	CONSTRAINT "change_cost_deltas_month_ck" CHECK (extract(day from "change_cost_deltas"."effective_month") = 1)
);
--> statement-breakpoint
ALTER TABLE "change_cost_deltas" ADD CONSTRAINT "change_cost_deltas_change_id_tickets_id_fk" FOREIGN KEY ("change_id") REFERENCES "public"."tickets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_cost_deltas" ADD CONSTRAINT "change_cost_deltas_ci_id_configuration_items_id_fk" FOREIGN KEY ("ci_id") REFERENCES "public"."configuration_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_cost_deltas" ADD CONSTRAINT "change_cost_deltas_cost_centre_id_cost_centres_id_fk" FOREIGN KEY ("cost_centre_id") REFERENCES "public"."cost_centres"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_cost_deltas" ADD CONSTRAINT "change_cost_deltas_service_id_configuration_items_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."configuration_items"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "change_cost_deltas_change_idx" ON "change_cost_deltas" USING btree ("change_id");--> statement-breakpoint
CREATE INDEX "change_cost_deltas_ci_idx" ON "change_cost_deltas" USING btree ("ci_id");
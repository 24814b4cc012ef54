CREATE TABLE "service_consumers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"service_id" uuid NOT NULL,
	"organisation_id" uuid NOT NULL,
	"units" numeric(20, 4) DEFAULT '1' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "service_consumers_units_ck" CHECK ("service_consumers"."units" > 0)
);
--> statement-breakpoint
CREATE TABLE "service_cost_weights" (
	"id" uuid PRIMARY KEY NOT NULL,
	"service_id" uuid NOT NULL,
	"ci_id" uuid NOT NULL,
	"weight" numeric(20, 4) NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "service_cost_weights_weight_ck" CHECK ("service_cost_weights"."weight" > 0)
);
--> statement-breakpoint
CREATE TABLE "service_prices" (
	"id" uuid PRIMARY KEY NOT NULL,
	"service_id" uuid NOT NULL,
	"basis" text NOT NULL,
	"amount" numeric(20, 4) NOT NULL,
	"currency" text NOT NULL,
	"quantity_attribute" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "service_prices_amount_ck" CHECK ("service_prices"."amount" >= 0)
);
--> statement-breakpoint
ALTER TABLE "service_consumers" ADD CONSTRAINT "service_consumers_service_id_configuration_items_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."configuration_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_consumers" ADD CONSTRAINT "service_consumers_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_cost_weights" ADD CONSTRAINT "service_cost_weights_service_id_configuration_items_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."configuration_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_cost_weights" ADD CONSTRAINT "service_cost_weights_ci_id_configuration_items_id_fk" FOREIGN KEY ("ci_id") REFERENCES "public"."configuration_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_prices" ADD CONSTRAINT "service_prices_service_id_configuration_items_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."configuration_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "service_consumers_uq" ON "service_consumers" USING btree ("service_id","organisation_id");--> statement-breakpoint
CREATE INDEX "service_consumers_organisation_idx" ON "service_consumers" USING btree ("organisation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "service_cost_weights_uq" ON "service_cost_weights" USING btree ("service_id","ci_id");--> statement-breakpoint
CREATE INDEX "service_cost_weights_ci_idx" ON "service_cost_weights" USING btree ("ci_id");--> statement-breakpoint
CREATE UNIQUE INDEX "service_prices_service_uq" ON "service_prices" USING btree ("service_id");
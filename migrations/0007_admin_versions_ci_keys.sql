ALTER TABLE "configuration_items" ADD COLUMN "mac_address" text;--> statement-breakpoint
ALTER TABLE "configuration_items" ADD COLUMN "system_uuid" text;--> statement-breakpoint
ALTER TABLE "categories" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "change_approval_policies" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "change_freezes" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "change_freezes" ADD COLUMN "updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "event_routing_rules" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "problem_rules" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE INDEX "configuration_items_mac_idx" ON "configuration_items" USING btree ("mac_address");--> statement-breakpoint
CREATE INDEX "configuration_items_system_uuid_idx" ON "configuration_items" USING btree ("system_uuid");--> statement-breakpoint
-- One spelling of the identification keys (src/lib/ci-identity.ts): serials trimmed and upper-case,
-- firmware placeholders identify nothing; host names without any trailing root dots.
UPDATE "configuration_items" SET "serial" = NULLIF(upper(regexp_replace(btrim("serial"), '\s+', ' ', 'g')), '') WHERE "serial" IS NOT NULL;--> statement-breakpoint
UPDATE "configuration_items" SET "serial" = NULL WHERE "serial" ~ '^0+$' OR "serial" ~ '^[-._ ]+$' OR "serial" IN ('NONE', 'NULL', 'N/A', 'NA', 'UNKNOWN', 'NOT SPECIFIED', 'NOT APPLICABLE', 'NOT AVAILABLE', 'DEFAULT STRING', 'TO BE FILLED BY O.E.M.', 'TO BE FILLED BY OEM', 'SYSTEM SERIAL NUMBER', 'CHASSIS SERIAL NUMBER', 'SERIAL NUMBER', 'INVALID', 'O.E.M.', 'OEM', '123456789', 'XXXXXXXXXX');--> statement-breakpoint
UPDATE "configuration_items" SET "hostname" = NULLIF(rtrim(lower(btrim("hostname")), '.'), ''), "fqdn" = NULLIF(rtrim(lower(btrim("fqdn")), '.'), '') WHERE "hostname" ~ '(\.$|[A-Z]|^\s|\s$)' OR "fqdn" ~ '(\.$|[A-Z]|^\s|\s$)';

CREATE TABLE "ci_baselines" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"scope" jsonb NOT NULL,
	"snapshot" jsonb NOT NULL,
	"created_by" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ci_classes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"label" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"parent_id" uuid,
	"attributes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"builtin" boolean DEFAULT false NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ci_relationship_types" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"label" text NOT NULL,
	"reverse_label" text NOT NULL,
	"builtin" boolean DEFAULT false NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ci_source_records" (
	"source_id" uuid NOT NULL,
	"external_key" text NOT NULL,
	"ci_id" uuid NOT NULL,
	"last_seen_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ci_source_records_source_id_external_key_pk" PRIMARY KEY("source_id","external_key")
);
--> statement-breakpoint
CREATE TABLE "discovery_sources" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"precedence" integer DEFAULT 50 NOT NULL,
	"overrides_manual" boolean DEFAULT false NOT NULL,
	"missing_after_days" integer,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "configuration_items" ALTER COLUMN "status" SET DEFAULT 'live';--> statement-breakpoint
ALTER TABLE "configuration_items" ADD COLUMN "mac_addresses" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "configuration_items" ADD COLUMN "asset_tag" text;--> statement-breakpoint
ALTER TABLE "configuration_items" ADD COLUMN "owner_team_id" uuid;--> statement-breakpoint
ALTER TABLE "configuration_items" ADD COLUMN "organisation_id" uuid;--> statement-breakpoint
ALTER TABLE "configuration_items" ADD COLUMN "location" text;--> statement-breakpoint
ALTER TABLE "configuration_items" ADD COLUMN "cost_centre_id" uuid;--> statement-breakpoint
ALTER TABLE "configuration_items" ADD COLUMN "attributes" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "configuration_items" ADD COLUMN "field_sources" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "configuration_items" ADD COLUMN "missing_since" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "ci_baselines" ADD CONSTRAINT "ci_baselines_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ci_source_records" ADD CONSTRAINT "ci_source_records_source_id_discovery_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."discovery_sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ci_source_records" ADD CONSTRAINT "ci_source_records_ci_id_configuration_items_id_fk" FOREIGN KEY ("ci_id") REFERENCES "public"."configuration_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ci_baselines_created_idx" ON "ci_baselines" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "ci_classes_name_uq" ON "ci_classes" USING btree ("name");--> statement-breakpoint
CREATE INDEX "ci_classes_parent_idx" ON "ci_classes" USING btree ("parent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ci_relationship_types_name_uq" ON "ci_relationship_types" USING btree ("name");--> statement-breakpoint
CREATE INDEX "ci_source_records_ci_idx" ON "ci_source_records" USING btree ("ci_id");--> statement-breakpoint
CREATE INDEX "ci_source_records_seen_idx" ON "ci_source_records" USING btree ("source_id","last_seen_at");--> statement-breakpoint
CREATE UNIQUE INDEX "discovery_sources_name_uq" ON "discovery_sources" USING btree ("name");--> statement-breakpoint
ALTER TABLE "configuration_items" ADD CONSTRAINT "configuration_items_owner_team_id_teams_id_fk" FOREIGN KEY ("owner_team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "configuration_items" ADD CONSTRAINT "configuration_items_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "configuration_items_class_idx" ON "configuration_items" USING btree ("class");--> statement-breakpoint
CREATE INDEX "configuration_items_macs_idx" ON "configuration_items" USING gin ("mac_addresses");--> statement-breakpoint
CREATE INDEX "configuration_items_asset_tag_idx" ON "configuration_items" USING btree ("asset_tag");--> statement-breakpoint
CREATE INDEX "configuration_items_attributes_idx" ON "configuration_items" USING gin ("attributes" jsonb_path_ops);--> statement-breakpoint
-- hand-written: the shipped ITIL class set and relationship catalogue, existing rows carried over,
-- foreign keys on names (added here so the carry-over runs first), `active` renamed `live`.
INSERT INTO "ci_classes" ("id", "name", "label", "description", "parent_id", "attributes", "builtin") VALUES
	(gen_random_uuid(), 'generic', 'Generic', 'Anything without a more specific class', NULL, '[]', true),
	(gen_random_uuid(), 'computer', 'Computer', 'A physical or virtual machine', NULL, '[{"name":"manufacturer","type":"text"},{"name":"model","type":"text"},{"name":"os_name","type":"text"},{"name":"os_version","type":"text"},{"name":"os_kernel","type":"text"},{"name":"cpu","type":"text"},{"name":"cpu_cores","type":"number"},{"name":"memory_mb","type":"number"},{"name":"ip_addresses","type":"text"},{"name":"environment","type":"enum","values":["production","staging","test","development"]}]', true),
	(gen_random_uuid(), 'network_device', 'Network device', 'Switches, routers, firewalls, access points', NULL, '[{"name":"manufacturer","type":"text"},{"name":"model","type":"text"},{"name":"firmware","type":"text"},{"name":"ip_addresses","type":"text"}]', true),
	(gen_random_uuid(), 'storage_device', 'Storage device', 'Arrays, NAS, SAN switches', NULL, '[{"name":"manufacturer","type":"text"},{"name":"model","type":"text"},{"name":"capacity_gb","type":"number"}]', true),
	(gen_random_uuid(), 'application', 'Application', 'Software deployed to serve users', NULL, '[{"name":"vendor","type":"text"},{"name":"version","type":"text"},{"name":"environment","type":"enum","values":["production","staging","test","development"]},{"name":"url","type":"text"}]', true),
	(gen_random_uuid(), 'service', 'Service', 'A business or technical service', NULL, '[{"name":"criticality","type":"enum","values":["low","medium","high","critical"]},{"name":"service_hours","type":"text"}]', true),
	(gen_random_uuid(), 'software', 'Software', 'An installable product at one version, shared by the machines that have it', NULL, '[{"name":"product","type":"text"},{"name":"version","type":"text"},{"name":"publisher","type":"text"},{"name":"arch","type":"text"},{"name":"package_type","type":"text"}]', true),
	(gen_random_uuid(), 'document', 'Document', 'Contracts, licences, runbooks', NULL, '[{"name":"url","type":"text"},{"name":"expires_on","type":"date"}]', true);
--> statement-breakpoint
INSERT INTO "ci_classes" ("id", "name", "label", "description", "parent_id", "attributes", "builtin")
SELECT gen_random_uuid(), v.name, v.label, v.description, p.id, v.attributes::jsonb, true
FROM (VALUES
	('server', 'Server', 'A computer serving others', 'computer', '[{"name":"rack","type":"text"}]'),
	('workstation', 'Workstation', 'A desktop or laptop', 'computer', '[]'),
	('switch', 'Switch', 'A network switch', 'network_device', '[{"name":"port_count","type":"number"}]'),
	('router', 'Router', 'A network router', 'network_device', '[]'),
	('firewall', 'Firewall', 'A network firewall', 'network_device', '[]'),
	('database', 'Database', 'A database instance or schema', 'application', '[{"name":"engine","type":"text"}]'),
	('business_service', 'Business service', 'A service as its customers see it', 'service', '[]'),
	('technical_service', 'Technical service', 'A service other services stand on', 'service', '[]')
) AS v(name, label, description, parent, attributes)
JOIN "ci_classes" p ON p.name = v.parent;
--> statement-breakpoint
INSERT INTO "ci_classes" ("id", "name", "label", "description", "parent_id", "attributes", "builtin")
SELECT gen_random_uuid(), 'virtual_machine', 'Virtual machine', 'A server running on a hypervisor', p.id, '[{"name":"hypervisor","type":"text"}]'::jsonb, true
FROM "ci_classes" p WHERE p.name = 'server';
--> statement-breakpoint
INSERT INTO "ci_classes" ("id", "name", "label", "builtin")
SELECT gen_random_uuid(), c.class, c.class, false FROM (SELECT DISTINCT "class" FROM "configuration_items") c
ON CONFLICT ("name") DO NOTHING;
--> statement-breakpoint
INSERT INTO "ci_relationship_types" ("id", "name", "label", "reverse_label", "builtin") VALUES
	(gen_random_uuid(), 'runs_on', 'runs on', 'hosts', true),
	(gen_random_uuid(), 'depends_on', 'depends on', 'used by', true),
	(gen_random_uuid(), 'connects_to', 'connects to', 'connected from', true),
	(gen_random_uuid(), 'part_of', 'part of', 'contains', true),
	(gen_random_uuid(), 'installed_on', 'installed on', 'has installed', true);
--> statement-breakpoint
INSERT INTO "ci_relationship_types" ("id", "name", "label", "reverse_label", "builtin")
SELECT gen_random_uuid(), r.type, r.type, r.type, false FROM (SELECT DISTINCT "type" FROM "ci_relationships") r
ON CONFLICT ("name") DO NOTHING;
--> statement-breakpoint
ALTER TABLE "ci_classes" ADD CONSTRAINT "ci_classes_parent_fk" FOREIGN KEY ("parent_id") REFERENCES "ci_classes"("id") ON DELETE RESTRICT;
--> statement-breakpoint
ALTER TABLE "configuration_items" ADD CONSTRAINT "configuration_items_class_fk" FOREIGN KEY ("class") REFERENCES "ci_classes"("name") ON DELETE RESTRICT;
--> statement-breakpoint
ALTER TABLE "ci_relationships" ADD CONSTRAINT "ci_relationships_type_fk" FOREIGN KEY ("type") REFERENCES "ci_relationship_types"("name") ON DELETE RESTRICT;
--> statement-breakpoint
UPDATE "configuration_items" SET "status" = 'live' WHERE "status" = 'active';
--> statement-breakpoint
UPDATE "configuration_items" SET "mac_addresses" = ARRAY["mac_address"] WHERE "mac_address" IS NOT NULL;

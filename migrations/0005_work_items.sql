CREATE TABLE "work_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"queue" text NOT NULL,
	"key" text,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"due_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 10 NOT NULL,
	"lease_owner" text,
	"lease_token" uuid,
	"lease_expires_at" timestamp (3) with time zone,
	"last_error" text,
	"dead_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "work_items_queue_key_uq" ON "work_items" USING btree ("queue","key") WHERE dead_at IS NULL;--> statement-breakpoint
CREATE INDEX "work_items_due_idx" ON "work_items" USING btree ("due_at") WHERE dead_at IS NULL;--> statement-breakpoint
CREATE INDEX "work_items_dead_idx" ON "work_items" USING btree ("queue","dead_at") WHERE dead_at IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "work_items_lease_token_uq" ON "work_items" USING btree ("lease_token");
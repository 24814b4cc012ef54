DROP INDEX "ci_relationships_target_idx";--> statement-breakpoint
CREATE INDEX "ci_relationships_target_source_type_idx" ON "ci_relationships" USING btree ("target_id","source_id","type");
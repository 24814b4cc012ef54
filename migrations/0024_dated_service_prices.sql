DROP INDEX "service_prices_service_uq";--> statement-breakpoint
ALTER TABLE "service_prices" ADD COLUMN "valid_from" date;--> statement-breakpoint
ALTER TABLE "service_prices" ADD COLUMN "valid_to" date;--> statement-breakpoint
CREATE INDEX "service_prices_service_idx" ON "service_prices" USING btree ("service_id","valid_from");--> statement-breakpoint
ALTER TABLE "service_prices" ADD CONSTRAINT "service_prices_validity_ck" CHECK ("service_prices"."valid_to" >= "service_prices"."valid_from");
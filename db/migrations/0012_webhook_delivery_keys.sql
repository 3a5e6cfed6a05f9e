-- Delivery ids become unique per project: the old key, unique per provider, implies the new one,
-- so existing rows satisfy it.
ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "webhook_deliveries_provider_delivery_id_key";--> statement-breakpoint
CREATE INDEX "webhook_deliveries_project_id_payload_sha256_idx" ON "webhook_deliveries" USING btree ("project_id","payload_sha256");--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_project_id_provider_delivery_id_key" UNIQUE("project_id","provider","delivery_id");
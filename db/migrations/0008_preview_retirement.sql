ALTER TYPE "public"."deployment_status" ADD VALUE 'retired';--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "ref_closed_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "builds_project_id_pull_request_idx" ON "builds" USING btree ("project_id","pull_request");
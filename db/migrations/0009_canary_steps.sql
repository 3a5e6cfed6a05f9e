ALTER TABLE "deployments" ADD COLUMN "canary_percent" integer;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "resume_at" timestamp with time zone;
ALTER TABLE "deployments" ADD COLUMN "request_key" text;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_request_key_key" UNIQUE("request_key");
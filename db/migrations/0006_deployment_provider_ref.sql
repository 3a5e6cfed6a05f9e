ALTER TABLE "deployments" ADD COLUMN "provider_ref" jsonb;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "git_credentials_encrypted" text;
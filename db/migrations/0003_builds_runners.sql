CREATE TABLE "runner_registration_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"created_by" uuid,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "runner_registration_tokens_token_hash_key" UNIQUE("token_hash")
);
--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "target" "environment_kind" DEFAULT 'preview' NOT NULL;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "tag" text;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "pull_request" integer;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "attempt" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "retry_of" uuid;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "cancel_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "artifact_key" text;--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "log_key" text;--> statement-breakpoint
ALTER TABLE "runner_registration_tokens" ADD CONSTRAINT "runner_registration_tokens_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runner_registration_tokens" ADD CONSTRAINT "runner_registration_tokens_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "runner_registration_tokens_workspace_id_idx" ON "runner_registration_tokens" USING btree ("workspace_id");--> statement-breakpoint
ALTER TABLE "builds" ADD CONSTRAINT "builds_retry_of_builds_id_fk" FOREIGN KEY ("retry_of") REFERENCES "public"."builds"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "builds" ADD CONSTRAINT "builds_attempt_nonnegative" CHECK ("builds"."attempt" >= 0);
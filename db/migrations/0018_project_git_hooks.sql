CREATE TABLE "project_git_hooks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"provider" "git_provider" NOT NULL,
	"api_base" text NOT NULL,
	"repository" text NOT NULL,
	"hook_id" bigint NOT NULL,
	"url" text NOT NULL,
	"secret_sha256" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "project_git_hooks_project_id_key" UNIQUE("project_id"),
	CONSTRAINT "project_git_hooks_provider_check" CHECK ("project_git_hooks"."provider" in ('gitlab', 'gitea'))
);
--> statement-breakpoint
ALTER TABLE "project_git_hooks" ADD CONSTRAINT "project_git_hooks_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
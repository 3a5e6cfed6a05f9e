CREATE TABLE "github_app_repositories" (
	"workspace_id" uuid NOT NULL,
	"installation_id" bigint NOT NULL,
	"full_name" text NOT NULL,
	"clone_url" text NOT NULL,
	"private" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "github_app_repositories_pkey" PRIMARY KEY("workspace_id","full_name")
);
--> statement-breakpoint
ALTER TABLE "github_app_repositories" ADD CONSTRAINT "github_app_repositories_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;
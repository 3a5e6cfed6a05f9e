ALTER TYPE "public"."webhook_provider" ADD VALUE 'poll';--> statement-breakpoint
CREATE TABLE "polled_heads" (
	"project_id" uuid NOT NULL,
	"branch" text NOT NULL,
	"sha" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "polled_heads_pkey" PRIMARY KEY("project_id","branch")
);
--> statement-breakpoint
ALTER TABLE "polled_heads" ADD CONSTRAINT "polled_heads_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
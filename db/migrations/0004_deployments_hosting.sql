CREATE TABLE "deployment_transitions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"deployment_id" uuid NOT NULL,
	"from_status" "deployment_status",
	"to_status" "deployment_status" NOT NULL,
	"reason" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "domains" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"hostname" text NOT NULL,
	"verified_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "domains_hostname_key" UNIQUE("hostname"),
	CONSTRAINT "domains_hostname_lowercase" CHECK ("domains"."hostname" = lower("domains"."hostname"))
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "label" text DEFAULT substr(md5(gen_random_uuid()::text), 1, 12) NOT NULL;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "manifest_key" text;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "health_results" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "live_deployment_id" uuid;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "canary_deployment_id" uuid;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "canary_percent" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "auto_deploy" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "strategy" "deployment_strategy" DEFAULT 'all_at_once' NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "deploy_config" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "credentials_encrypted" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "host_label" text;--> statement-breakpoint
ALTER TABLE "deployment_transitions" ADD CONSTRAINT "deployment_transitions_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "domains" ADD CONSTRAINT "domains_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deployment_transitions_deployment_id_at_idx" ON "deployment_transitions" USING btree ("deployment_id","at");--> statement-breakpoint
CREATE INDEX "domains_project_id_idx" ON "domains" USING btree ("project_id");--> statement-breakpoint
ALTER TABLE "environments" ADD CONSTRAINT "environments_live_deployment_id_deployments_id_fk" FOREIGN KEY ("live_deployment_id") REFERENCES "public"."deployments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "environments" ADD CONSTRAINT "environments_canary_deployment_id_deployments_id_fk" FOREIGN KEY ("canary_deployment_id") REFERENCES "public"."deployments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_label_key" UNIQUE("label");--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_host_label_key" UNIQUE("host_label");
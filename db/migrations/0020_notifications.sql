CREATE TYPE "public"."notification_delivery_status" AS ENUM('pending', 'succeeded', 'failed');--> statement-breakpoint
CREATE TYPE "public"."notification_event" AS ENUM('build.failed', 'deployment.live', 'deployment.rolled_back', 'runner.offline', 'test');--> statement-breakpoint
CREATE TYPE "public"."notification_target_kind" AS ENUM('webhook', 'slack', 'discord');--> statement-breakpoint
CREATE TABLE "notification_deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"target_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"event_type" "notification_event" NOT NULL,
	"event_id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" "notification_delivery_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"response_status" integer,
	"response_excerpt" text,
	"error" text,
	"duration_ms" integer,
	"last_attempt_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"redelivery_of" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notification_deliveries_attempts_nonnegative" CHECK ("notification_deliveries"."attempts" >= 0)
);
--> statement-breakpoint
CREATE TABLE "notification_targets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"kind" "notification_target_kind" NOT NULL,
	"name" text NOT NULL,
	"url_encrypted" text NOT NULL,
	"url_hint" text NOT NULL,
	"secret_encrypted" text,
	"events" "notification_event"[] NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notification_targets_secret_for_webhooks" CHECK (("notification_targets"."kind" = 'webhook') = ("notification_targets"."secret_encrypted" is not null)),
	CONSTRAINT "notification_targets_events_nonempty" CHECK (cardinality("notification_targets"."events") > 0)
);
--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_target_id_notification_targets_id_fk" FOREIGN KEY ("target_id") REFERENCES "public"."notification_targets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_targets" ADD CONSTRAINT "notification_targets_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "notification_deliveries_target_event_key" ON "notification_deliveries" USING btree ("target_id","event_id") WHERE "notification_deliveries"."redelivery_of" is null;--> statement-breakpoint
CREATE INDEX "notification_deliveries_target_created_idx" ON "notification_deliveries" USING btree ("target_id","created_at");--> statement-breakpoint
CREATE INDEX "notification_targets_project_id_idx" ON "notification_targets" USING btree ("project_id");
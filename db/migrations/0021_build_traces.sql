CREATE TYPE "public"."build_phase" AS ENUM('queued', 'planned', 'runner_picked', 'checkout', 'install', 'build', 'upload', 'deploy', 'health_check', 'live');--> statement-breakpoint
CREATE TYPE "public"."span_kind" AS ENUM('internal', 'server', 'client', 'producer', 'consumer');--> statement-breakpoint
CREATE TYPE "public"."span_status_code" AS ENUM('unset', 'ok', 'error');--> statement-breakpoint
CREATE TABLE "build_spans" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"build_id" uuid NOT NULL,
	"trace_id" text NOT NULL,
	"span_id" text NOT NULL,
	"parent_span_id" text,
	"name" text NOT NULL,
	"kind" "span_kind" NOT NULL,
	"phase" "build_phase",
	"service" text NOT NULL,
	"start_at" timestamp with time zone NOT NULL,
	"end_at" timestamp with time zone NOT NULL,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status_code" "span_status_code" DEFAULT 'unset' NOT NULL,
	"status_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "build_spans_build_id_span_id_key" UNIQUE("build_id","span_id"),
	CONSTRAINT "build_spans_trace_id_hex" CHECK ("build_spans"."trace_id" ~ '^[0-9a-f]{32}$'),
	CONSTRAINT "build_spans_span_id_hex" CHECK ("build_spans"."span_id" ~ '^[0-9a-f]{16}$'),
	CONSTRAINT "build_spans_end_after_start" CHECK ("build_spans"."end_at" >= "build_spans"."start_at")
);
--> statement-breakpoint
ALTER TABLE "builds" ADD COLUMN "traceparent" text;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "traceparent" text;--> statement-breakpoint
ALTER TABLE "build_spans" ADD CONSTRAINT "build_spans_build_id_builds_id_fk" FOREIGN KEY ("build_id") REFERENCES "public"."builds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "build_spans_trace_id_idx" ON "build_spans" USING btree ("trace_id");
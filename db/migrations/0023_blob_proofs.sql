CREATE TABLE "blob_proofs" (
	"workspace_id" uuid NOT NULL,
	"hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "blob_proofs_pkey" PRIMARY KEY("workspace_id","hash")
);
--> statement-breakpoint
ALTER TABLE "blob_proofs" ADD CONSTRAINT "blob_proofs_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;
CREATE TABLE "packed_blobs" (
	"hash" text PRIMARY KEY NOT NULL,
	"pack" text NOT NULL,
	"offset" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);

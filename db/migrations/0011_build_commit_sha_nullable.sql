ALTER TABLE "builds" ALTER COLUMN "commit_sha" DROP NOT NULL;--> statement-breakpoint
-- Branch builds started without a commit stored it as the empty string.
UPDATE "builds" SET "commit_sha" = NULL WHERE "commit_sha" = '';--> statement-breakpoint
ALTER TABLE "builds" ADD CONSTRAINT "builds_commit_sha_not_empty" CHECK ("builds"."commit_sha" <> '');--> statement-breakpoint
ALTER TABLE "builds" ADD CONSTRAINT "builds_commit_or_branch" CHECK ("builds"."commit_sha" is not null or "builds"."branch" is not null);
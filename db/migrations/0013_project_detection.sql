-- The newest build's detection; until now nothing filled in the framework column beside it.
ALTER TABLE "projects" ADD COLUMN "detection" jsonb;
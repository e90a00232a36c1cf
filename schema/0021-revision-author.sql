-- Migration 21: a revision's author ("Name <email>"), from git with its subject, so
-- that flights show who wrote the commit they test.
ALTER TABLE revisions ADD COLUMN author TEXT;

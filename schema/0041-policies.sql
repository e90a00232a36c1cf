-- Migration 41: trust policies. Each board's policy as its agent declared it (the
-- board file's `policy:` section, JSON; NULL: none, anything runs), whether an
-- agent's builder builds untrusted code, and who made a flight (the name of the
-- user token of a submission or manual flight) for the policies' `users`.
ALTER TABLE boards ADD COLUMN policy TEXT;
ALTER TABLE agents ADD COLUMN builder_untrusted INTEGER NOT NULL DEFAULT 1;
ALTER TABLE flights ADD COLUMN user TEXT;

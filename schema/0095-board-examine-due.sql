-- Migration 95: a new or changed board is examined before it takes work.
-- With the controller's examine_job set, a board never examined or whose board
-- file changed since its last examine (the sha256 its agent declares) takes
-- only examines until one passes, and an examine is scheduled for it.
ALTER TABLE boards ADD COLUMN file_sha256 TEXT;	-- its board file's sha256 as last declared; NULL: not sent
ALTER TABLE boards ADD COLUMN examined_sha256 TEXT;	-- file_sha256 when its last examine ended
ALTER TABLE boards ADD COLUMN examine_due TEXT;	-- why it must pass an examine before other work; NULL: it need not

-- Migration 65: known issues (controller/known-issues.c, docs/flights.md "Known
-- issues"). The known issue a failed attempt matched when it ended, as it was
-- then: its label, link and whether it blocks are kept with the match, so that a
-- later configuration does not rewrite what a page or a report said of it.
CREATE TABLE known_issue_matches (
	attempt_id INTEGER PRIMARY KEY REFERENCES attempts(id),
	issue TEXT NOT NULL,
	label TEXT NOT NULL,
	link TEXT NOT NULL DEFAULT '',
	blocks INTEGER NOT NULL CHECK (blocks IN (0, 1)),
	matched INTEGER NOT NULL
);
